"""Notification bodies: Slack-compatible blocks within Slack's limits, the plain form, and hosts
(never the token-bearing URL) in what is printed."""

from __future__ import annotations

from pytest_cutover.report import notify


def _doc() -> dict[str, object]:
    reasons = [f"t.py::test_{n} failed: problem {chr(65 + n % 26)}{chr(97 + n // 26)} " + "x" * 4000
               for n in range(30)]
    return {"decision": "NO-GO", "exit_code": 1, "environment": "production", "release": "2.0.0" * 40,
            "target": "https://ils.example.com", "markers": ["smoke"], "counts": {"failed": 30},
            "reasons": reasons, "rollback_reasons": [], "warnings": [],
            "triggers": [{"name": "error_rate", "rule": "error rate above 5 %", "state": "clear",
                          "details": ["0.42133771% in smoke/t.py::test_rate"]}]}


def test_slack_form_keeps_within_the_block_limits() -> None:
    body = notify.body(_doc(), "https://ci.example.com/run/1", "slack")
    assert "cutover" not in body and body["text"].startswith(":no_entry: Cutover NO-GO")
    header, causes, triggers, context = body["blocks"]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150
    assert len(causes["text"]["text"]) <= 3000 and len(body["text"]) <= 3000
    assert triggers["fields"][0]["text"] == "*error rate above 5 %*\nclear: 0.421% in smoke/t.py::test_rate"
    assert "https://ci.example.com/run/1" in context["elements"][0]["text"]


def test_plain_form_carries_decision_causes_triggers_and_report() -> None:
    plain = notify.body(_doc(), "reports/go-no-go.html", "json")
    assert (plain["decision"], plain["exit_code"], plain["report"]) == ("NO-GO", 1, "reports/go-no-go.html")
    assert len(plain["causes"]) == 20
    assert plain["triggers"][0]["values"] == ["0.421% in smoke/t.py::test_rate"]
    assert "blocks" not in plain and "cutover" in notify.body(_doc(), "r", "both")


def test_only_the_host_of_a_webhook_is_ever_printed() -> None:
    assert notify.where("https://hooks.example.com/services/T000/B000/SECRETTOKEN") == "https://hooks.example.com"
    assert notify.where("http://127.0.0.1:8080/hook/abc") == "http://127.0.0.1:8080"
