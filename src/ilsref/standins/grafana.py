"""Grafana stand-in: /api/health, /api/search, /api/dashboards/uid/<uid> (Grafana 10 shapes).

Faults: `grafana_down` (503 everywhere), `grafana_missing_dashboard` (ILS 2.0 Overview is gone).
"""

from __future__ import annotations

from typing import Any

from ilsref.standins.common import StandinHandler

VERSION = "10.4.1"
COMMIT = "d94d597d84"
OVERVIEW_TITLE = "ILS 2.0 Overview"

_PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}


def _panel(panel_id: int, title: str, expr: str, unit: str) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": _PROMETHEUS,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((panel_id - 1) % 2), "y": 8 * ((panel_id - 1) // 2)},
        "targets": [{"refId": "A", "datasource": _PROMETHEUS, "expr": expr}],
    }


# The panels of ILS's dashboard: request rate, P95/P99, error rate, active requests, DB connections.
_OVERVIEW_PANELS = [
    _panel(1, "Request rate", "sum(rate(http_requests_total[5m]))", "reqps"),
    _panel(2, "P95 latency",
           "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", "s"),
    _panel(3, "P99 latency",
           "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))", "s"),
    _panel(4, "Error rate",
           'sum(rate(http_requests_total{status_code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
           "percentunit"),
    _panel(5, "Active requests", "sum(http_active_requests)", "short"),
    _panel(6, "DB connections", "sum(db_connection_pool)", "short"),
]

DASHBOARDS = [
    {"id": 1, "uid": "ils-overview", "title": OVERVIEW_TITLE, "tags": ["ils", "production"],
     "panels": _OVERVIEW_PANELS},
    {"id": 2, "uid": "ils-database", "title": "ILS 2.0 Database", "tags": ["ils", "postgres"],
     "panels": [_panel(1, "Backends", "sum(pg_stat_database_numbackends)", "short")]},
]


def _slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


class GrafanaHandler(StandinHandler):
    def visible_dashboards(self) -> list[dict[str, Any]]:
        if self.fault("grafana_missing_dashboard"):
            return [d for d in DASHBOARDS if d["title"] != OVERVIEW_TITLE]
        return DASHBOARDS

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.fault("grafana_down"):
            self.reply_text(503, "Service Unavailable")
            return
        path = self.path_only
        if path == "/api/health":  # public in Grafana, no auth
            self.reply_json(200, {"commit": COMMIT, "database": "ok", "version": VERSION})
            return
        if not self.bearer_ok():
            self.reply_json(401, {"message": "Unauthorized", "messageId": "auth.unauthorized",
                                  "statusCode": 401, "traceID": ""})
            return
        if path == "/api/search":
            self.search()
        elif path.startswith("/api/dashboards/uid/"):
            self.dashboard(path.removeprefix("/api/dashboards/uid/"))
        else:
            self.reply_json(404, {"message": "Not found"})

    def search(self) -> None:
        wanted_type = self.query.get("type", "")
        text = self.query.get("query", "").lower()
        hits = []
        if wanted_type in ("", "dash-db"):
            for d in self.visible_dashboards():
                if text in d["title"].lower():
                    slug = _slug(d["title"])
                    hits.append({
                        "id": d["id"], "uid": d["uid"], "title": d["title"], "uri": f"db/{slug}",
                        "url": f"/d/{d['uid']}/{slug}", "slug": "", "type": "dash-db",
                        "tags": d["tags"], "isStarred": False, "sortMeta": 0,
                    })
        self.reply_json(200, hits)

    def dashboard(self, uid: str) -> None:
        found = next((d for d in self.visible_dashboards() if d["uid"] == uid), None)
        if found is None:
            self.reply_json(404, {"message": "Dashboard not found"})
            return
        slug = _slug(found["title"])
        self.reply_json(200, {
            "dashboard": {**found, "schemaVersion": 39, "version": 3, "timezone": "browser",
                          "time": {"from": "now-6h", "to": "now"}},
            "meta": {"type": "db", "canSave": True, "canEdit": True, "slug": slug,
                     "url": f"/d/{found['uid']}/{slug}", "provisioned": True, "folderId": 0,
                     "folderTitle": "General", "created": "2026-01-05T09:00:00Z",
                     "updated": "2026-01-05T09:00:00Z", "version": 3},
        })
