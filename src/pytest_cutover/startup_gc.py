"""The cyclic garbage collector during pytest's start-up.

Starting a run allocates a few hundred thousand objects that live until the end (modules,
classes, fixture definitions, items). The collector scans them over and over and frees almost
none of them: 90 ms of a smoke run's 0.9 s of CPU went to it. So the plugin pauses the collector
before the conftests are imported, and once the run is collected it freezes what exists
(`gc.freeze`: later collections skip those objects) and turns the collector back on. Reference
counting frees objects as always while it is paused; only reference cycles made during start-up
wait.
"""

from __future__ import annotations

import gc

_paused = False  # this module turned the collector off and has not turned it on again
_settled = False


def pause() -> None:
    """Turn the collector off for the start-up, unless it is off already or was settled."""
    global _paused
    if gc.isenabled() and not _settled:
        gc.disable()
        _paused = True


def settle() -> None:
    """Freeze the start-up's objects and give the collector back; idempotent, so every hook that
    may come first (collection finished, the run loop of an xdist controller, the config's cleanup
    when a run stops early) calls it."""
    global _paused, _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    if _paused:
        gc.enable()
        _paused = False
