"""Production safety on the reference deployment (issue 13).

The whole suite, every marker, runs against the reference deployment declared as an environment
of kind production, without the opt-in. Counted outside the suite: writes at the app (its own
http_requests_total, POST/PUT/PATCH/DELETE other than login and logout), alerts at Alertmanager
(not fired by Prometheus), and Kubernetes objects changed (anything a client writes: all but
status). All must be zero, and every destructive check must end "not verified". Then a
destructive check that posts a test alert runs with the opt-in: the alert is counted (so the
counter can see one), and the opt-in shows in the terminal header, the HTML banner and
verdict.json.
"""

from __future__ import annotations

import json
import re
import ssl
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import Reference, SmokeRun

ENV = "prodref"
EVERY_MARKER = "readiness or smoke or e2e or load or rollback_drill or post_launch"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A request with a write method that changes nothing: refused by design (smoke's wrong-method check)
REFUSED_PROBES = {("DELETE", "/api/health")}
ALERT_CHECK = "load/test_post_launch.py::test_alertmanager_accepts_and_lists_a_test_alert"
SUITE_TIMEOUT_S = 1200  # the whole suite on two shared cores; destructive checks do not run


class Target:
    """Read-only views of the reference deployment, taken from outside the suite."""

    def __init__(self, ilsref: Reference) -> None:
        self.local = tomllib.loads((ilsref.home / "run" / "local.toml").read_text())
        self.context = ssl.create_default_context(cafile=self.local["ca_bundle"])
        kubeconfig = json.loads(Path(self.local["kubernetes"]["kubeconfig"]).read_text())
        self.kube = kubeconfig["clusters"][0]["cluster"]["server"]
        self.namespace = self.local["kubernetes"]["namespace"]

    def _get(self, url: str) -> Any:
        request = urllib.request.Request(url, headers={"Authorization": "Bearer ilsref-dummy-token"})
        context = self.context if url.startswith("https") else None
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.read().decode()

    def writes(self) -> dict[tuple[str, str, str], float]:
        """(method, path, status) -> count of write requests the app has served."""
        found: dict[tuple[str, str, str], float] = {}
        for line in self._get(self.local["base_url"] + "/metrics").splitlines():
            match = re.match(r'http_requests_total\{(.*)\} ([0-9.e+]+)$', line)
            if not match:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if labels.get("method") in WRITES and not re.search(r"log(in|out)", labels.get("path", "")):
                key = (labels["method"], labels["path"], labels.get("status_code", ""))
                found[key] = float(match.group(2))
        return found

    def alerts(self) -> dict[str, dict[str, Any]]:
        """Alerts Alertmanager holds that Prometheus did not fire (a generatorURL names it)."""
        url = (self.local["alertmanager"]["url"].rstrip("/")
               + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")
        return {a["fingerprint"]: a for a in json.loads(self._get(url)) if not a.get("generatorURL")}

    def kubernetes(self) -> dict[str, str]:
        """kind/name -> what a client's write changes, for the app's objects (pods excluded: they
        live). Everything but `status`: controllers rewrite status (and bump resourceVersion)
        on their own, as on a real cluster, so resourceVersion would count their work too."""
        ns = self.namespace
        found = {}
        for path in (f"/apis/apps/v1/namespaces/{ns}/deployments",
                     f"/apis/apps/v1/namespaces/{ns}/replicasets",
                     f"/api/v1/namespaces/{ns}/services", f"/api/v1/namespaces/{ns}/configmaps",
                     f"/api/v1/namespaces/{ns}/secrets",
                     f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
                     f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
                     f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"):
            try:
                items = json.loads(self._get(self.kube + path)).get("items", [])
            except OSError:
                continue  # a kind the emulator does not serve
            for item in items:
                meta = {k: v for k, v in item["metadata"].items()
                        if k not in ("resourceVersion", "managedFields")}
                written = {k: v for k, v in item.items() if k not in ("status", "metadata")}
                found[f"{path.rsplit('/', 1)[1]}/{meta['name']}"] = json.dumps(
                    [meta, written], sort_keys=True)
        return found


def _delta(before: dict[Any, float], after: dict[Any, float]) -> dict[Any, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}


@pytest.fixture(scope="module")
def production(ilsref: Reference) -> Path:
    config = ilsref.workdir / "cutover-production.toml"
    config.write_text(f'[environments.{ENV}]\nkind = "production"\n'
                      f'include = "{ilsref.home / "run" / "local.toml"}"\n')
    return config


@pytest.fixture(scope="module")
def refused(ilsref: Reference, production: Path) -> tuple[SmokeRun, dict[str, Any]]:
    target = Target(ilsref)
    before = (target.writes(), target.alerts(), target.kubernetes())
    run = ilsref.suite(EVERY_MARKER, f"--cutover-config={production}", f"--cutover-env={ENV}",
                       timeout_s=SUITE_TIMEOUT_S)
    after = (target.writes(), target.alerts(), target.kubernetes())
    counted = {
        "writes": _delta(before[0], after[0]),
        "alerts": {k: v["labels"] for k, v in after[1].items() if k not in before[1]},
        "kubernetes": {k: (before[2].get(k), v) for k, v in after[2].items() if before[2].get(k) != v},
    }
    return run, counted


@pytest.mark.slow
def test_production_without_opt_in_sends_no_write_no_alert_and_changes_no_object(
        refused: tuple[SmokeRun, dict[str, Any]]) -> None:
    run, counted = refused
    assert (run.reports / "verdict.json").exists(), run.explain()
    outcomes: dict[str, int] = {}
    for check in run.verdict["checks"]:
        outcomes[check["outcome"]] = outcomes.get(check["outcome"], 0) + 1
    print(f"\ncounted over {len(run.verdict['checks'])} checks {outcomes}: {counted}")  # with -s
    writes = {k: n for k, n in counted["writes"].items() if (k[0], k[1]) not in REFUSED_PROBES}
    refused_probes = {k: n for k, n in counted["writes"].items() if (k[0], k[1]) in REFUSED_PROBES}
    assert writes == {}, f"writes counted at the app: {writes}"
    assert all(status.startswith("4") for _, _, status in refused_probes), refused_probes
    assert counted["alerts"] == {}, f"alerts counted at Alertmanager: {counted['alerts']}"
    assert counted["kubernetes"] == {}, f"Kubernetes objects changed: {counted['kubernetes']}"


@pytest.mark.slow
def test_every_destructive_check_is_not_verified_and_the_refusal_is_shown(
        refused: tuple[SmokeRun, dict[str, Any]]) -> None:
    run, _ = refused
    doc = run.verdict
    destructive = [c for c in doc["checks"] if "destructive" in c.get("markers", [])]
    assert len(destructive) >= 10, run.explain()  # load gate, drills, e2e writes, alerts, rate limit
    assert ALERT_CHECK in {c["nodeid"] for c in destructive}
    wrong = {c["nodeid"]: c["outcome"] for c in destructive if c["outcome"] != "unverified"}
    assert wrong == {}
    print(f"\n{len(destructive)} destructive checks, all not verified; decision {doc['decision']}; "
          f"markers run: {sorted({m for c in doc['checks'] for m in c['markers']})}")  # shown with -s
    assert all("--cutover-allow-destructive=prodref" in c["message"] for c in destructive)
    assert doc["destructive_allowed"] is None
    assert "destructive checks refused (no --cutover-allow-destructive)" in run.output
    assert doc["decision"] != "GO"  # unverified checks count against GO


@pytest.mark.slow
def test_opt_in_runs_the_alert_check_counted_and_shown_in_all_three_places(
        ilsref: Reference, production: Path, refused: tuple[SmokeRun, dict[str, Any]]) -> None:
    target = Target(ilsref)
    before = target.alerts()
    run = ilsref.suite("post_launch", f"--cutover-config={production}", f"--cutover-env={ENV}",
                       f"--cutover-allow-destructive={ENV}", "-v", ALERT_CHECK)
    new = {k: v["labels"] for k, v in target.alerts().items() if k not in before}
    outcomes = {c["nodeid"]: c["outcome"] for c in run.verdict["checks"]}
    assert outcomes.get(ALERT_CHECK) == "passed", run.explain()
    assert [labels["alertname"] for labels in new.values()] == ["CutoverPostLaunchProbe"]  # counted
    note = f"destructive checks ALLOWED against '{ENV}' (--cutover-allow-destructive={ENV})"
    assert f"cutover: {note}" in run.output  # terminal header
    assert note.upper().replace("'", "&#x27;") in run.html  # the HTML banner
    assert run.verdict["destructive_allowed"] == ENV and run.verdict["destructive_note"] == note
