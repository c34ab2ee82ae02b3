"""Loki-style log store stand-in: GET /ready and GET /loki/api/v1/query_range.

The app's lines are generated on each request, one every 30 s over the last two hours with current
timestamps, so "recent lines exist" is true without a log pipeline. Supports a stream selector
(`{app="ils-app", level="warn"}`) and `|= "text"` line filters; start/end in ns or RFC 3339.
Faults: `logs_not_ready` (/ready answers 503), `logs_stale` (the newest line is two hours old),
`logs_error_lines` (every other line of the last 10 minutes is an ERROR with a stack trace).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from ilsref.standins.common import StandinHandler

NS = 1_000_000_000
LINE_EVERY_NS = 30 * NS
HISTORY_NS = 2 * 3600 * NS
STALE_SHIFT_NS = 2 * 3600 * NS  # `logs_stale`: nothing newer than this
ERRORS_FOR_NS = 10 * 60 * NS  # `logs_error_lines`: how far back the errors go

BASE_LABELS = {"app": "ils-app", "namespace": "ils", "container": "app", "pod": "ils-app-7d9f8c6b5-x2k4q"}

_SELECTOR = re.compile(r"^\s*\{(?P<matchers>[^}]*)\}(?P<pipeline>.*)$")
_MATCHER = re.compile(r'\s*(\w+)\s*(=|!=)\s*"([^"]*)"\s*')
_LINE_FILTER = re.compile(r'\|=\s*"([^"]*)"')

# (level, message) cycled through; a healthy app logs no errors.
_MESSAGES = (
    ("info", "GET /api/health 200 3ms"),
    ("info", "POST /api/auth/jwt/login 200 41ms"),
    ("info", "GET /api/patients?page=1 200 18ms"),
    ("info", "GET /api/orders 200 22ms"),
    ("warn", "slow query: SELECT patients by customer_number took 1240ms"),
    ("info", "GET /metrics 200 2ms"),
)
_ERROR = ("error", "ERROR Unhandled rejection in POST /api/orders: TypeError: Cannot read properties "
          "of undefined (reading 'lensType')\n    at OrderService.create "
          "(/app/server/services/OrderService.ts:142:31)\n    at async /app/server/routes/orders.ts:58:19")


class QueryError(ValueError):
    pass


def parse_query(query: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The selector's matchers (label, op, value) and the `|=` filters of a LogQL query."""
    match = _SELECTOR.match(query)
    if not match:
        raise QueryError(f"parse error : syntax error: unexpected input, expecting {{ in {query!r}")
    matchers = []
    for part in filter(None, (p.strip() for p in match["matchers"].split(","))):
        found = _MATCHER.fullmatch(part)
        if not found:
            raise QueryError(f"parse error : syntax error in matcher {part!r}")
        matchers.append((found[1], found[2], found[3]))
    if not matchers:
        raise QueryError("parse error : queries require at least one regexp or equality matcher")
    return matchers, _LINE_FILTER.findall(match["pipeline"])


def _nanos(value: str | None, default: int) -> int:
    if not value:
        return default
    if value.isdigit():
        number = int(value)
        return number if number > 10**12 else number * NS  # seconds are accepted too
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * NS)


def app_lines(now_ns: int, stale: bool, errors: bool = False) -> list[tuple[int, str, str]]:
    """(timestamp ns, level, JSON line), newest first."""
    newest = now_ns - (STALE_SHIFT_NS if stale else 5 * NS)
    newest -= newest % LINE_EVERY_NS
    lines = []
    for index in range(HISTORY_NS // LINE_EVERY_NS):
        stamp = newest - index * LINE_EVERY_NS
        level, message = _MESSAGES[index % len(_MESSAGES)]
        if errors and index % 2 == 0 and now_ns - stamp <= ERRORS_FOR_NS:
            level, message = _ERROR
        when = datetime.fromtimestamp(stamp / NS).astimezone().isoformat(timespec="milliseconds")
        lines.append((stamp, level, json.dumps({"level": level, "time": when, "msg": message})))
    return lines


def query_range(params: dict[str, str], stale: bool, errors: bool = False) -> dict[str, Any]:
    matchers, filters = parse_query(params.get("query", ""))
    now = time.time_ns()
    end = _nanos(params.get("end"), now)
    start = _nanos(params.get("start"), end - 3600 * NS)
    limit = int(params.get("limit", "100"))
    forward = params.get("direction", "backward") == "forward"

    entries = []
    for stamp, level, line in app_lines(now, stale, errors):
        labels = {**BASE_LABELS, "level": level}
        selected = all((labels.get(name) == value) == (op == "=") for name, op, value in matchers)
        if selected and start <= stamp <= end and all(text in line for text in filters):
            entries.append((stamp, labels, line))
    entries.sort(key=lambda e: e[0], reverse=not forward)
    streams: dict[str, dict[str, Any]] = {}
    for stamp, labels, line in entries[:limit]:
        stream = streams.setdefault(labels["level"], {"stream": labels, "values": []})
        stream["values"].append([str(stamp), line])
    return {
        "status": "success",
        "data": {"resultType": "streams", "result": list(streams.values()),
                 "stats": {"summary": {
                     "totalEntriesReturned": sum(len(s["values"]) for s in streams.values())}}},
    }


class LogStoreHandler(StandinHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path = self.path_only
        if path == "/ready":
            if self.fault("logs_not_ready"):
                self.reply_text(503, "Ingester not ready: waiting for 15s after being ready\n")
            else:
                self.reply_text(200, "ready\n")
        elif path == "/loki/api/v1/query_range":
            try:
                self.reply_json(200, query_range(self.query, stale=self.fault("logs_stale"),
                                                 errors=self.fault("logs_error_lines")))
            except (QueryError, ValueError) as exc:
                self.reply_text(400, f"{exc}\n")
        else:
            self.reply_text(404, "404 page not found\n")
