"""The HTTP observers every client tells of every exchange (`clients/http.py`), in a module of
their own: the plugin registers its leak detector here without importing requests, which a run
that sends no HTTP request (the restore drill) does not need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# An observer that raises never breaks the check that sent.
OBSERVERS: list[Callable[[Any], None]] = []
