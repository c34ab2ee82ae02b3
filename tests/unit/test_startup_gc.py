"""startup_gc: the collector is paused for pytest's start-up only, and always given back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pytest_cutover import startup_gc


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(startup_gc, "_paused", False)
    monkeypatch.setattr(startup_gc, "_settled", False)
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_then_settle_freezes_and_gives_the_collector_back(fresh: None) -> None:
    gc.enable()
    startup_gc.pause()
    assert not gc.isenabled()
    startup_gc.settle()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    startup_gc.pause()  # settled: a later run in the same process leaves the collector alone
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off(fresh: None) -> None:
    gc.disable()
    startup_gc.pause()
    startup_gc.settle()
    assert not gc.isenabled()


def test_settle_is_idempotent(fresh: None) -> None:
    gc.enable()
    startup_gc.pause()
    startup_gc.settle()
    gc.disable()  # the tests' own business after the start-up
    startup_gc.settle()
    assert not gc.isenabled()
