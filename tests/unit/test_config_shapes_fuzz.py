"""Whatever the bytes or shapes in cutover.toml and signoffs.toml, validation answers with
problems, never an exception (issue 13): every value of a full configuration replaced in turn by
every other TOML type, and random bytes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import governance
from pytest_cutover.settings import Chosen, collect

FULL: dict[str, Any] = {
    "cutover": {"default_environment": "prod", "signoffs": "signoffs.toml", "reports": "reports"},
    "environments": {
        "prod": {
            "kind": "production", "base_url": "https://ils.example.com", "release": "2.0.0",
            "timeout_s": 10, "http_url": "http://ils.example.com",
            "accounts": {"smoke": {"email_env": "T_EMAIL", "password_env": "T_PASS"}},
            "endpoints": {"health": {"path": "/api/health", "expect_status": 200,
                                     "latency": {"warn": 200, "crit": 500}}},
            "database": {"dsn_env": "T_DSN", "tables": ["users"], "long_transaction_s": 60},
            "redis": {"url_env": "T_REDIS"},
            "thresholds": {"p95_ms": {"warn": 400, "crit": 800}},
            "not_applicable": {"cdn": "no CDN"},
            "profile": {"health_paths": ["/health"], "ready_wait_s": 5},
            "load": {"profile": "ci", "users": 5, "think_time_s": [1, 2]},
            "e2e": {"flows": {"login": {"critical": True}}, "action_timeout_ms": 500},
            "security": {"rate_limit": {"max_requests": 10}},
            "external": {"payments": {"url": "https://pay.example.com", "expect_status": 200}},
        },
        "staging": {"kind": "staging", "base_url": "https://staging.example.com"},
    },
}
ENV = {"T_EMAIL": "qa@example.com", "T_PASS": "pw-123456", "T_DSN": "postgresql://a:b@db/ils",
       "T_REDIS": "redis://:pw@cache:6379/0"}
REPLACEMENTS: list[Any] = [5, -1, 0, "x", "", [], [1, "a"], {}, {"zz": 1}, True, 1.5, [{"a": 1}]]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _dump(data: dict[str, Any]) -> str:
    return "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in data.items()) + "\n"


def _paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    return found


def _replaced(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(FULL))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_the_full_configuration_is_valid(tmp_path: Path) -> None:
    (tmp_path / "cutover.toml").write_text(_dump(FULL))
    assert collect(Chosen(str(tmp_path / "cutover.toml"), "test"), Chosen(None, "test"), ENV).problems == []


def test_every_value_replaced_by_every_type_is_problems_never_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "cutover.toml"
    checked = 0
    for where in _paths(FULL):
        for value in REPLACEMENTS:
            path.write_text(_dump(_replaced(where, value)))
            found = collect(Chosen(str(path), "test"), Chosen(None, "test"), ENV)
            assert all(isinstance(p, str) and p for p in found.problems)
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_are_one_problem_not_a_crash(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible byte flips, not a secret
    good = _dump(FULL).encode()
    data = bytearray(good)
    for _ in range(rng.randint(1, 12)):  # flip bytes: broken UTF-8, broken TOML, odd shapes
        data[rng.randrange(len(data))] = rng.randrange(256)
    (tmp_path / "cutover.toml").write_bytes(bytes(data))
    (tmp_path / "signoffs.toml").write_bytes(bytes(data))
    found = collect(Chosen(str(tmp_path / "cutover.toml"), "test"), Chosen(None, "test"), ENV)
    assert all(isinstance(p, str) for p in found.problems)
    _, problems = governance.load(tmp_path / "signoffs.toml", set(), [])
    assert all(isinstance(p, str) for p in problems)


@pytest.mark.parametrize("text", [
    "signoff = 5\n", "signoff = [[1]]\n", "waiver = {check = 1}\n", "[[signoff]]\nitem = 5\n",
    "[[signoff]]\nitem = \"a\"\nwho = []\nrole = {}\nwhen = []\nevidence = 1\n",
    "[[waiver]]\ncheck = []\njustification = 1\napprover = true\nexpires = 5\n",
    "[[signoff]]\nitem = \"a\"\nwho = \"b\"\nrole = \"c\"\nwhen = 2026-01-01\nevidence = \"e\"\nexpires "
    "= []\n",
])
def test_odd_signoff_shapes_are_problems(tmp_path: Path, text: str) -> None:
    path = tmp_path / "signoffs.toml"
    path.write_text(text)
    _, problems = governance.load(path, {"a"}, ["x.py::test_x"])
    assert problems and all(str(path) in p for p in problems)
