"""Fetch a document named by a file path or an http(s) URL, as facts: found, size, age, text.

Reports (dependency audit, JUnit), documentation and OpenAPI documents live either in files
(a CI artefact checked out next to the suite) or behind URLs (a wiki, a docs site, an artefact
store). A URL is read with the check's `http` client, so the exchange becomes evidence; its
age is the `Last-Modified` header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

MAX_BYTES = 20_000_000


@dataclass(frozen=True)
class Document:
    location: str
    found: bool
    text: str = ""
    size: int = 0
    modified: dt.datetime | None = None
    problem: str = ""  # why it was not found, one line

    def age_days(self, now: dt.datetime) -> float | None:
        if self.modified is None:
            return None
        return max(0.0, (now - self.modified).total_seconds() / 86400)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _last_modified(headers: Any) -> dt.datetime | None:
    raw = headers.get("Last-Modified")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def fetch(location: str, http: Any, base_dir: Path) -> Document:
    """Read `location` (URL through `http`, else a path relative to `base_dir`)."""
    if is_url(location):
        result = http.get(location)
        if result.status != 200:
            return Document(location, False, problem=result.describe())
        return Document(location, True, result.text, len(result.text.encode()),
                        _last_modified(result.headers))
    path = base_dir / location
    if not path.is_file():
        return Document(location, False, problem=f"{str(path)!r} does not exist")
    stat = path.stat()
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES)
    return Document(location, True, data.decode("utf-8", errors="replace"), stat.st_size,
                    dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC))
