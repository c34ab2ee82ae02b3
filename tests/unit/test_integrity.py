"""Snapshots before/after the cutover, and source/restore comparisons."""

from __future__ import annotations

import pytest

from pytest_cutover import integrity
from pytest_cutover.integrity import Historical, Relation, Snapshot, TableFacts


def facts(rows: int, checksum: str = "c", max_id: str | None = None,
          historical: Historical | None = None) -> TableFacts:
    return TableFacts(rows, checksum, ("id", "name"), max_id,
                      historical or Historical("id", "10", rows, checksum))


def snap(orphans: int = 0, **tables: TableFacts) -> Snapshot:
    return Snapshot("staging", "2026-11-26T10:00:00+00:00", "ils_db", tables,
                    {"orders.patient_id -> patients.id": orphans}, "1.9.3")


BEFORE = snap(patients=facts(50, max_id="50"), orders=facts(100))


def test_an_unchanged_database_has_no_findings():
    assert integrity.cutover_findings(BEFORE, BEFORE) == []


def test_more_rows_after_the_cutover_are_fine():
    after = snap(patients=facts(60, "other", "60", Historical("id", "10", 50, "c")), orders=facts(100))
    assert integrity.cutover_findings(BEFORE, after) == []


def test_fewer_rows_are_reported_with_both_counts():
    after = snap(patients=facts(45, max_id="50"), orders=facts(100))
    assert integrity.lost_rows(BEFORE, after) == [
        "table patients: 45 rows now, 50 before the cutover (5 fewer)"]


def test_a_missing_table_and_a_smaller_max_id_are_lost_rows():
    after = snap(patients=facts(50, max_id="40"))
    assert integrity.lost_rows(BEFORE, after) == [
        "table orders: missing now (had 100 rows before the cutover)",
        "table patients: largest id is 40 now, 50 before the cutover"]


def test_changed_historical_rows_are_reported():
    after = snap(patients=facts(50, "changed-sum", "50"), orders=facts(100))
    assert integrity.changed_history(BEFORE, after) == [
        "table patients: rows that existed before the cutover changed (checksum changed-sum now, c before)"]


def test_historical_rows_gone_are_reported():
    after = snap(patients=facts(55, "x", "55", Historical("id", "10", 48, "x")), orders=facts(100))
    assert integrity.changed_history(BEFORE, after) == [
        "table patients: 2 of the 50 rows that existed before the cutover are gone"]


def test_tables_without_a_historical_bound_are_compared_by_count_only():
    before = snap(sessions=facts(3, historical=Historical("none", None)))
    after = snap(sessions=facts(3, "other", historical=Historical("none", None)))
    assert integrity.changed_history(before, after) == []


def test_new_orphans_are_reported():
    assert integrity.new_orphans(BEFORE, snap(orphans=7)) == [
        "relation orders.patient_id -> patients.id: 7 orphans now, 0 before the cutover (7 new)"]


def test_snapshot_round_trips_through_its_file(tmp_path):
    path = integrity.snapshot_path(tmp_path, "staging")
    integrity.save(BEFORE, path)
    assert path == tmp_path / "snapshots" / "staging.json"
    assert integrity.load(path) == BEFORE


def test_a_missing_snapshot_file_loads_as_none(tmp_path):
    assert integrity.load(tmp_path / "none.json") is None


def test_a_snapshot_of_another_format_version_is_refused():
    with pytest.raises(ValueError, match="version 2"):
        Snapshot.from_dict({**BEFORE.to_dict(), "version": 2})


@pytest.mark.parametrize("text", ["orders.patient_id -> patients.id", " orders.patient_id->patients.id "])
def test_relation_parses(text):
    assert str(Relation.parse(text)) == "orders.patient_id -> patients.id"


def test_a_malformed_relation_is_refused():
    with pytest.raises(ValueError, match=r"orders\.patient_id -> patients\.id"):
        Relation.parse("orders -> patients")


def test_restore_missing_rows_names_the_table():
    source = {"orders": facts(100), "users": facts(3)}
    restored = {"orders": facts(95), "users": facts(3)}
    assert integrity.restore_findings(source, restored, ["users", "orders"]) == [
        "table orders: 95 rows restored, 100 in the source at dump time (5 missing)"]


def test_restore_with_other_contents_or_a_missing_table_is_reported():
    source = {"orders": facts(100), "users": facts(3)}
    restored = {"orders": facts(100, "other")}
    assert integrity.restore_findings(source, restored, ["orders", "users"]) == [
        "table orders: same 100 rows but different contents (checksum other restored, c in the source)",
        "table users: missing from the restore (source had 3 rows)"]
