"""Connection strings parsed by libpq through ctypes (no psycopg import): the same parameters as
psycopg's parser, the same errors refused, values quoted so that libpq reads them back."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from pytest_cutover.clients import conninfo

DSNS = [
    "postgresql://app:p%40ss%2Fword@127.0.0.1:5432/ils_db?sslmode=require&connect_timeout=5",
    "postgres://u@[::1]:6432/db",
    "postgresql:///db?host=/var/run/postgresql",
    "host=/tmp dbname=x user=y password='a b\\'c'",
    "host=db.internal port=5433 dbname=ils application_name='cutover drill'",
    "dbname=ils",
    "",
]


@pytest.fixture(params=["libpq", "psycopg"])
def parser(request, monkeypatch):
    """Both ways: libpq through ctypes, and psycopg where no libpq can be loaded."""
    if request.param == "psycopg":
        monkeypatch.setattr(conninfo, "_libpq", lambda: None)
    elif conninfo._libpq() is None:
        pytest.skip("no libpq on this machine")  # the Debian postgresql-client brings it
    return request.param


@pytest.mark.parametrize("dsn", DSNS)
def test_the_parameters_are_psycopgs(parser, dsn):
    assert conninfo.parse(dsn) == {k: str(v) for k, v in conninfo_to_dict(dsn).items()}


@pytest.mark.parametrize("dsn", DSNS)
def test_a_changed_string_reads_back_with_the_change(parser, dsn):
    made = conninfo.make(dsn, dbname="cutover_scratch_it's x", password=None)
    want = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if k != "password"}
    assert conninfo.parse(made) == {**want, "dbname": "cutover_scratch_it's x"}
    assert "password" not in made


@pytest.mark.parametrize("bad", ["host=x port", "postgresql://a:b@/x?foo=bar", "=x",
                                 "host='unterminated"])
def test_what_libpq_refuses_is_refused_with_its_reason(parser, bad):
    with pytest.raises(conninfo.ConninfoError) as caught:
        conninfo.parse(bad)
    assert str(caught.value)
