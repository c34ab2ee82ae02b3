"""The checklist catalogue is well formed, its matrix shows each item's worst status, and every
item is covered by a check in the suite folders or planned for later work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_cutover import checklist

PROJECT = Path(__file__).resolve().parents[2]
SUITE_FOLDERS = ["readiness", "smoke", "e2e", "load", "rollback"]
KINDS = {"automated", "manual", "either"}
PLANNED = {"", "smoke", "platform-readiness", "governance", "e2e", "load", "rollback-drill"}

ITEMS = checklist.load()


def test_catalogue_loads_with_items() -> None:
    assert len(ITEMS) > 100
    assert all(item.id and item.text and item.section for item in ITEMS)


def test_catalogue_ids_are_unique() -> None:
    raw = tomllib.loads(resources.files("pytest_cutover").joinpath("data/checklist.toml").read_text())
    duplicates = [i for i, n in Counter(e["id"] for e in raw["item"]).items() if n > 1]
    assert duplicates == []


def test_every_item_has_a_known_phase_kind_and_plan() -> None:
    wrong = [f"{i.id}: phase {i.phase!r} kind {i.kind!r} planned {i.planned!r}" for i in ITEMS
             if i.phase not in checklist.PHASES or i.kind not in KINDS or i.planned not in PLANNED]
    assert wrong == []


def test_same_as_points_to_an_existing_item_that_is_not_itself_an_alias() -> None:
    index = checklist.by_id(ITEMS)
    wrong = [f"{i.id} -> {i.same_as!r}" for i in ITEMS
             if i.same_as and (i.same_as not in index or index[i.same_as].same_as)]
    assert wrong == []


def result(nodeid: str, outcome: str, *ids: str) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, outcome=outcome, checklist=list(ids))


def test_matrix_shows_the_worst_status_of_linked_checks() -> None:
    items = [checklist.Item("a", "t-7d", "S", "A"), checklist.Item("b", "t-7d", "S", "B"),
             checklist.Item("c", "t-7d", "S", "C"), checklist.Item("d", "pre-flight", "S", "D", same_as="a"),
             checklist.Item("e", "t-7d", "S", "E")]
    rows = checklist.matrix(items, [
        result("t::1", "passed", "a", "b"), result("t::2", "failed", "a"),
        result("t::3", "waived", "b"), result("t::4", "not_applicable", "c")])
    assert [(r.item.id, r.status) for r in rows] == [
        ("a", "failed"), ("b", "waived"), ("c", "not applicable"), ("d", "failed"),
        ("e", "not verified")]
    assert rows[0].checks == [("t::1", "passed"), ("t::2", "failed")]


def test_not_applicable_checks_are_neutral_beside_verified_ones() -> None:
    item = checklist.Item("a", "t-7d", "S", "A")
    rows = checklist.matrix([item], [result("t::1", "passed", "a"), result("t::2", "not_applicable", "a")])
    assert rows[0].status == "verified"


@pytest.mark.parametrize(("outcome", "status"), [
    ("passed", "verified"), ("failed", "failed"), ("error", "failed"), ("pending", "pending sign-off"),
    ("unverified", "not verified"), ("waived", "waived"), ("not_applicable", "not applicable"),
])
def test_matrix_status_words(outcome: str, status: str) -> None:
    item = checklist.Item("a", "t-7d", "S", "A")
    assert checklist.matrix([item], [result("t::1", outcome, "a")])[0].status == status


def test_uncovered_ignores_aliases_and_planned_items() -> None:
    items = [checklist.Item("a", "t-7d", "S", "A"), checklist.Item("b", "t-7d", "S", "B", planned="smoke"),
             checklist.Item("c", "t-7d", "S", "C", same_as="a"), checklist.Item("d", "t-7d", "S", "D")]
    assert [i.id for i in checklist.uncovered(items, {"a"})] == ["d"]
    assert checklist.unknown_ids(["a", "zz", "zz"], items) == ["zz"]


# Collect the real suite folders (filled by other people while this runs) in a subprocess, with
# a tiny plugin that writes each test's checklist ids. `-o addopts=` drops the project's HTML and
# JUnit options so collecting never overwrites reports/; `-o cutover_config=` keeps the plugin
# inert (no environment needed) while its markers stay registered.
COLLECTOR = textwrap.dedent("""
    import json, os

    def pytest_collection_finish(session):
        found = {item.nodeid: [str(a) for m in item.iter_markers("checklist") for a in m.args]
                 for item in session.items}
        with open(os.environ["CUTOVER_SELFTEST_OUT"], "w") as fh:
            json.dump(found, fh)
""")


def test_every_item_is_covered_by_a_check_or_planned(tmp_path: Path) -> None:
    (tmp_path / "cutover_selftest_collector.py").write_text(COLLECTOR)
    out = tmp_path / "collected.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.update(CUTOVER_SELFTEST_OUT=str(out), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")])))
    folders = [f for f in SUITE_FOLDERS if (PROJECT / f).is_dir()]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=",
         "-o", "cutover_config=", "-p", "no:cacheprovider", "-p", "no:locust",
         "-p", "cutover_selftest_collector", "--continue-on-collection-errors", *folders],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    output = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode in (0, 1, 5), output  # 4 = usage error, e.g. an unknown checklist id
    collected: dict[str, list[str]] = json.loads(out.read_text()) if out.exists() else {}
    linked = {i for ids in collected.values() for i in ids}
    assert checklist.unknown_ids(linked, ITEMS) == []
    missing = [f"{i.id} ({i.phase}): {i.text[:70]}" for i in checklist.uncovered(ITEMS, linked)]
    assert missing == [], (f"{len(missing)} checklist items have no check and no plan; link a "
                           "test with @pytest.mark.checklist(id) or set planned =")
