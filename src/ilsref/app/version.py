"""The served version: run/version.json (another service may rewrite it) or else the release."""

from __future__ import annotations

import json
import os
from pathlib import Path


class VersionSource:
    def __init__(self, path: Path, release: str) -> None:
        self.path, self.release = path, release
        self._stamp: int | None = None
        self._version = release

    def current(self) -> str:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            self._stamp, self._version = None, self.release
            return self.release
        if stamp != self._stamp:
            try:
                self._version = str(json.loads(self.path.read_text())["version"])
                self._stamp = stamp
            except (ValueError, KeyError, OSError):
                pass  # half-written: keep the last good answer
        return self._version
