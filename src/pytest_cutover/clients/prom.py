"""Prometheus and Alertmanager HTTP API facts: readiness, targets, rules, metric names, receivers.

Returns facts, never asserts; built on `HttpClient` (timeouts always set, transcripts kept as
evidence). An API that answers with something other than its JSON envelope raises `ApiError`
with the one-line description of the exchange.

PromQL queries over time (instant, range, buckets) live in `clients/promql.py`.
`metric_names(expr)` reads the metric names out of a PromQL expression, so a check can prove that
every series an alert rule needs exists (an alert on a metric nobody exports never fires).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pytest_cutover.clients.http import HttpClient, HttpResult


class ApiError(RuntimeError):
    """The API did not answer as documented."""


@dataclass(frozen=True)
class Target:
    job: str
    instance: str
    health: str  # up | down | unknown
    last_error: str
    scrape_url: str


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # alerting | recording
    query: str
    health: str  # ok | err | unknown
    last_error: str
    group: str


def _data(result: HttpResult) -> Any:
    body = result.json()
    if result.status != 200 or not isinstance(body, dict) or body.get("status") != "success":
        raise ApiError(result.describe())
    return body.get("data")


def ready(client: HttpClient) -> HttpResult:
    """GET /-/ready (Prometheus and Alertmanager both answer 200 when ready)."""
    return client.get("/-/ready")


def targets(client: HttpClient) -> list[Target]:
    data = _data(client.get("/api/v1/targets?state=active"))
    return [Target(t.get("labels", {}).get("job", t.get("scrapePool", "")),
                   t.get("labels", {}).get("instance", ""), t.get("health", "unknown"),
                   t.get("lastError", ""), t.get("scrapeUrl", ""))
            for t in data.get("activeTargets", [])]


def rules(client: HttpClient) -> list[Rule]:
    data = _data(client.get("/api/v1/rules"))
    return [Rule(r.get("name", ""), r.get("type", ""), r.get("query", ""), r.get("health", "unknown"),
                 r.get("lastError", ""), g.get("name", ""))
            for g in data.get("groups", []) for r in g.get("rules", [])]


def metric_names_in_store(client: HttpClient) -> set[str]:
    """Every metric name Prometheus holds series for (one request: the __name__ label values)."""
    return set(_data(client.get("/api/v1/label/__name__/values")) or [])


# --- PromQL ------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE)
_IDENT = re.compile(r"(?<![\w:.])[A-Za-z_:][\w:]*")
_NAME_MATCHER = re.compile(r"__name__\s*=\s*\"([^\"]+)\"")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "atan2", "start", "end"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords and labels excluded)."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        name = match.group()
        is_function = text[match.end():].lstrip().startswith("(")
        if not is_function and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def missing_metrics(rule_list: list[Rule], present: set[str]) -> dict[str, set[str]]:
    """alert name -> metric names it uses that have no series; names produced by a loaded
    recording rule count as present when that rule's own inputs are present (followed through
    at most 10 levels of recording rules)."""
    recorded = {r.name: r.query for r in rule_list if r.kind == "recording"}

    def absent(name: str, depth: int) -> set[str]:
        if name in present:
            return set()
        if name in recorded and depth < 10:
            return {n for used in metric_names(recorded[name]) for n in absent(used, depth + 1)}
        return {name}

    found: dict[str, set[str]] = {}
    for rule in rule_list:
        if rule.kind == "alerting":
            gone = {n for used in metric_names(rule.query) for n in absent(used, 0)}
            if gone:
                found[rule.name] = gone
    return found


# --- Alertmanager --------------------------------------------------------------------------

INTEGRATION_KEYS = ("email_configs", "pagerduty_configs", "slack_configs", "webhook_configs",
                    "opsgenie_configs", "victorops_configs", "pushover_configs", "wechat_configs",
                    "sns_configs", "telegram_configs", "webex_configs", "discord_configs",
                    "msteams_configs", "msteamsv2_configs", "jira_configs", "rocketchat_configs")


def alertmanager_config(client: HttpClient) -> dict[str, Any]:
    """The running configuration (GET /api/v2/status, `config.original`, parsed)."""
    import yaml  # type: ignore[import-untyped]  # PyYAML (a kubernetes dependency) ships no stubs

    result = client.get("/api/v2/status")
    body = result.json()
    if result.status != 200 or not isinstance(body, dict):
        raise ApiError(result.describe())
    original = (body.get("config") or {}).get("original") or ""
    parsed = yaml.safe_load(original) or {}
    return parsed if isinstance(parsed, dict) else {}


def receivers_with_integrations(config: dict[str, Any]) -> dict[str, list[str]]:
    """receiver name -> the kinds of integration it has (e.g. ['webhook']); [] for none."""
    found = {}
    for receiver in config.get("receivers") or []:
        kinds = [key.removesuffix("_configs") for key in INTEGRATION_KEYS if receiver.get(key)]
        found[str(receiver.get("name", ""))] = kinds
    return found


def post_alert(client: HttpClient, labels: dict[str, str], annotations: dict[str, str],
               starts_at: str, ends_at: str) -> HttpResult:
    return client.post("/api/v2/alerts", json=[{
        "labels": labels, "annotations": annotations, "startsAt": starts_at, "endsAt": ends_at}])


def alerts_matching(client: HttpClient, label: str, value: str) -> list[dict[str, Any]]:
    from urllib.parse import quote

    result = client.get(f"/api/v2/alerts?filter={quote(f'{label}={chr(34)}{value}{chr(34)}')}")
    body = result.json()
    if result.status != 200 or not isinstance(body, list):
        raise ApiError(result.describe())
    return body
