"""Following a parallel pg_restore from its verbose log: the table of contents, when a table's
rows are final, and when one of the restore's job slots is free for the drill's reads."""

from __future__ import annotations

import threading
import time

from pytest_cutover.clients.restore_progress import Entry, RestoreProgress, parse_list

# `pg_restore --list` of a two-table archive (PostgreSQL 15), with a table in another schema
LISTING = """\
;
; Archive created at 2026-12-03 17:55:37 UTC
;     dbname: bench_src
;
; Selected TOC Entries:
;
215; 1259 16392 TABLE public orders postgres
214; 1259 16385 TABLE public patients postgres
216; 1259 16400 TABLE audit orders postgres
3348; 0 16392 TABLE DATA public orders postgres
3347; 0 16385 TABLE DATA public patients postgres
3349; 0 16400 TABLE DATA audit orders postgres
3203; 2606 16398 CONSTRAINT public orders orders_pkey postgres
3201; 2606 16391 CONSTRAINT public patients patients_pkey postgres
3205; 1259 16402 INDEX public orders_created_idx postgres
3206; 2620 16403 TRIGGER public orders orders_touch postgres
3204; 2606 16399 FK CONSTRAINT public orders orders_patient_id_fkey postgres
"""


def log(verb: str, dump_id: int, what: str) -> str:
    return f"pg_restore: {verb} item {dump_id} {what}\n"


def started(progress: RestoreProgress) -> None:
    progress.feed("pg_restore: entering main parallel loop\n")


def test_the_listing_gives_each_tracked_entry_its_schema_and_tag():
    entries = {e.dump_id: e for e in parse_list(LISTING)}
    assert entries[3348] == Entry(3348, "TABLE DATA", "public", "orders")
    assert entries[3349] == Entry(3349, "TABLE DATA", "audit", "orders")
    assert entries[3203] == Entry(3203, "CONSTRAINT", "public", "orders orders_pkey")
    assert entries[3204].desc == "FK CONSTRAINT"
    assert entries[3206].desc == "TRIGGER"
    assert 215 not in entries and 3205 not in entries  # tables and indexes are not followed


def test_a_table_is_final_once_its_data_and_its_keys_and_triggers_have_finished():
    progress = RestoreProgress(parse_list(LISTING), jobs=2)
    started(progress)
    assert progress.feed(log("finished", 3347, "TABLE DATA patients")) == []
    assert not progress.final("patients")
    assert progress.feed(log("finished", 3201, "CONSTRAINT patients patients_pkey")) == ["patients"]
    assert progress.final("patients")
    assert progress.feed(log("finished", 3348, "TABLE DATA orders")) == []
    assert progress.feed(log("finished", 3203, "CONSTRAINT orders orders_pkey")) == []
    assert progress.feed(log("finished", 3206, "TRIGGER orders orders_touch")) == ["orders"]
    # the same table name in another schema is its own table, named as user_tables names it
    assert progress.feed(log("finished", 3349, "TABLE DATA orders")) == ["audit.orders"]


def test_foreign_keys_indexes_and_unknown_items_do_not_hold_a_table_back():
    progress = RestoreProgress(parse_list(LISTING), jobs=2)
    started(progress)
    progress.feed(log("finished", 3347, "TABLE DATA patients"))
    assert progress.feed(log("finished", 3204, "FK CONSTRAINT orders orders_patient_id_fkey")) == []
    assert progress.feed(log("finished", 9999, "TABLE DATA ghost")) == []
    assert progress.feed(log("finished", 3201, "CONSTRAINT patients patients_pkey")) == ["patients"]
    # a line finishing the same entry twice, or a server message quoting one, changes nothing
    assert progress.feed(log("finished", 3201, "CONSTRAINT patients patients_pkey")) == []
    assert progress.feed("DETAIL: finished item 3348 TABLE DATA orders\n") == []
    assert not progress.final("orders")


def test_a_slot_is_lent_only_while_fewer_items_run_than_the_restore_has_jobs():
    progress = RestoreProgress(parse_list(LISTING), jobs=2)
    assert not progress.free_slot()  # before the parallel phase one connection works alone
    started(progress)
    assert progress.free_slot()
    progress.feed(log("launching", 3348, "TABLE DATA orders"))
    progress.feed(log("launching", 3347, "TABLE DATA patients"))
    assert not progress.free_slot()
    progress.feed(log("finished", 3347, "TABLE DATA patients"))
    assert progress.free_slot()
    with progress.slot(limit_s=1):
        assert not progress.free_slot()  # the drill's read fills it
    assert progress.free_slot()


def test_a_waiting_read_starts_when_an_item_finishes_or_the_restore_ends():
    progress = RestoreProgress(parse_list(LISTING), jobs=1)
    started(progress)
    progress.feed(log("launching", 3348, "TABLE DATA orders"))
    entered = threading.Event()

    def read() -> None:
        with progress.slot(limit_s=30):
            entered.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert not entered.wait(0.2)
    progress.feed(log("finished", 3348, "TABLE DATA orders"))
    assert entered.wait(5)
    reader.join(5)

    progress.feed(log("launching", 3203, "CONSTRAINT orders orders_pkey"))
    entered.clear()
    reader = threading.Thread(target=read)
    reader.start()
    assert not entered.wait(0.2)
    progress.finish()  # pg_restore exited: every slot is free
    assert entered.wait(5)
    reader.join(5)


def test_a_slot_is_not_waited_for_beyond_its_limit():
    progress = RestoreProgress([], jobs=1)  # the parallel phase never begins
    began = time.monotonic()
    with progress.slot(limit_s=0.2):
        pass
    assert 0.2 <= time.monotonic() - began < 5


def test_the_restores_first_error_ignores_its_progress_lines():
    from pytest_cutover.clients.pgrestore import first_error, problems

    log = ("pg_restore: connecting to database for restore\n"
           'pg_restore: processing data for table "public.error_log"\n'
           "pg_restore: finished item 3347 TABLE DATA error_log\n"
           "pg_restore: error: could not execute query: ERROR:  invalid input syntax for type "
           'integer: "x"\n'
           "Command was: COPY public.orders (id) FROM stdin;\n")
    assert first_error(problems(log)).startswith("pg_restore: error: could not execute query")
    assert problems("pg_restore: warning: errors ignored on restore: 1\n") == (
        "pg_restore: warning: errors ignored on restore: 1")


def test_a_followed_restore_logs_in_english_whatever_the_locale(monkeypatch, tmp_path):
    from pytest_cutover.clients import pgrestore

    archive = tmp_path / "a.dump"
    archive.write_bytes(b"PGDMP" + b"\0" * 16)
    seen = {}

    def fake_run(command, env, timeout_s, on_line):
        seen.update(command=command, env=env)
        return 0, ""

    monkeypatch.setattr(pgrestore, "_run_logged", fake_run)
    monkeypatch.setattr(pgrestore, "tool", lambda name, pg_bin=None: name)
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    assert pgrestore.restore(archive, "dbname=x", jobs=2, on_line=print).ok
    assert "--verbose" in seen["command"]
    assert seen["env"]["LC_MESSAGES"] == "C"
    assert "LC_ALL" not in seen["env"] and "LANGUAGE" not in seen["env"]
