"""Sentry stand-in: the project and issue-list endpoints of the web API, plus event ingestion.

- GET /api/0/projects/<org>/<project>/            project details
- GET /api/0/projects/<org>/<project>/issues/     issues, filtered by `query` (default is:unresolved;
  understands is:, level:, release: and free text on the title)
- POST /api/<project_id>/envelope/ and /store/    events sent with the DSN's public key
Faults: `sentry_unreachable` (503 everywhere), `sentry_critical_issue` (an unresolved fatal issue
first seen in the current release).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from ilsref import PREVIOUS_RELEASE
from ilsref.standins.common import StandinHandler

ORG = "ils"
PROJECT = "ils-app"
PROJECT_ID = "2"


@dataclass(frozen=True)
class Issue:
    id: str
    title: str
    culprit: str
    level: str
    status: str
    count: int
    first_seen_ago: timedelta
    last_seen_ago: timedelta
    release: str | None  # None: the current release, filled in per request


_HEALTHY_ISSUES = (
    Issue("101", "Error: connect ECONNREFUSED 10.0.3.12:5432", "db/pool in connect", "error", "resolved",
          7, timedelta(days=9), timedelta(days=8), PREVIOUS_RELEASE),
    Issue("102", "Slow query: SELECT patients by customer_number (1240 ms)", "GET /api/patients", "warning",
          "unresolved", 3, timedelta(hours=5), timedelta(minutes=40), None),
)
_CRITICAL_ISSUE = Issue(
    "103", "TypeError: Cannot read properties of undefined (reading 'companyId')", "POST /api/orders",
    "fatal", "unresolved", 58, timedelta(minutes=50), timedelta(minutes=2), None,
)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _matches(issue: Issue, release: str, query: str) -> bool:
    for token in query.split():
        key, _, value = token.partition(":")
        if key == "is" and value in ("unresolved", "resolved", "ignored"):
            if issue.status != value:
                return False
        elif key == "level" and value:
            if issue.level != value:
                return False
        elif key in ("release", "firstRelease") and value:
            if release != value:
                return False
        elif token.lower() not in issue.title.lower():
            return False
    return True


class SentryHandler(StandinHandler):
    def issues(self) -> list[Issue]:
        found = list(_HEALTHY_ISSUES)
        if self.fault("sentry_critical_issue"):
            found.append(_CRITICAL_ISSUE)
        return found

    def issue_json(self, issue: Issue, now: datetime) -> dict[str, Any]:
        return {
            "id": issue.id, "shortId": f"ILS-APP-{issue.id}", "title": issue.title, "culprit": issue.culprit,
            "permalink": f"http://127.0.0.1:{self.server.server_port}/organizations/{ORG}/issues/{issue.id}/",
            "logger": None, "level": issue.level, "status": issue.status, "statusDetails": {},
            "isPublic": False, "platform": "node", "type": "error",
            "project": {"id": PROJECT_ID, "name": PROJECT, "slug": PROJECT, "platform": "node"},
            "metadata": {"type": issue.title.split(":")[0], "value": issue.title.partition(": ")[2]},
            "numComments": 0, "assignedTo": None, "isBookmarked": False, "isSubscribed": False,
            "hasSeen": False, "annotations": [], "isUnhandled": issue.level == "fatal",
            "count": str(issue.count),  # Sentry sends counts as strings
            "userCount": max(1, issue.count // 4),
            "firstSeen": _iso(now - issue.first_seen_ago), "lastSeen": _iso(now - issue.last_seen_ago),
        }

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.fault("sentry_unreachable"):
            self.reply_json(503, {"detail": "Service unavailable"})
            return
        if "Authorization" not in self.headers:
            self.reply_json(401, {"detail": "Authentication credentials were not provided."})
            return
        if not self.bearer_ok():
            self.reply_json(401, {"detail": "Invalid token"})
            return
        parts = [p for p in self.path_only.split("/") if p]
        # ["api", "0", "projects", org, project] or [..., "issues"]
        if parts[:3] != ["api", "0", "projects"] or len(parts) not in (5, 6) or parts[3:5] != [ORG, PROJECT]:
            self.reply_json(404, {"detail": "The requested resource does not exist"})
        elif len(parts) == 5:
            self.reply_json(200, self.project_json())
        elif parts[5] == "issues":
            now = datetime.now(UTC)
            query = self.query.get("query", "is:unresolved")
            selected = [i for i in self.issues() if _matches(i, i.release or self.server.release, query)]
            self.reply_json(200, [self.issue_json(i, now) for i in selected])
        else:
            self.reply_json(404, {"detail": "The requested resource does not exist"})

    def project_json(self) -> dict[str, Any]:
        return {
            "id": PROJECT_ID, "slug": PROJECT, "name": PROJECT, "platform": "node", "status": "active",
            "dateCreated": "2025-11-02T10:14:07.000Z", "firstEvent": "2025-11-02T10:31:44.000Z",
            "isBookmarked": False, "isMember": True, "hasAccess": True, "features": ["releases"],
            "organization": {"id": "1", "slug": ORG, "name": "ILS",
                             "status": {"id": "active", "name": "active"}},
            "latestRelease": {"version": self.server.release},
        }

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        if self.fault("sentry_unreachable"):
            self.reply_json(503, {"detail": "Service unavailable"})
            return
        parts = [p for p in self.path_only.split("/") if p]
        if (len(parts) != 3 or parts[0] != "api" or parts[1] != PROJECT_ID
                or parts[2] not in ("envelope", "store")):
            self.reply_json(404, {"detail": "The requested resource does not exist"})
            return
        self.read_body()
        auth = self.headers.get("X-Sentry-Auth", "")
        key = parse_qs(self.path.partition("?")[2]).get("sentry_key", [""])[0]
        if f"sentry_key={self.server.dsn_key}" not in auth and key != self.server.dsn_key:
            self.reply_json(401, {"detail": "Unauthorized"})
            return
        self.reply_json(200, {"id": uuid.uuid4().hex})
