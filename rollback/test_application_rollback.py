"""Rollback drill: `rollout undo` brings the previous release back, it passes the smoke checks,
and rolling forward restores the release; both within the plan's 30 minutes.

The drill (one per module, in `app_drill`) follows the plan's immediate rollback: record the
Deployment's revision and image; undo to the previous revision (kubectl's client-side algorithm
over the API, or kubectl); wait for `rollout status` within a deadline; read the served version;
re-run the smoke checks against the previous release (the real smoke/ folder in a subprocess,
minus the check that the *new* release is served); sample the error rate; then roll forward to
the original revision and verify again. The roll-forward runs even when a step failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import rollout
from pytest_cutover.clients.k8s import KubeUnavailable
from pytest_cutover.clients.k8s_rollout import Rollouts, Waited, wait
from pytest_cutover.clients.suite_run import SuiteRun, run_suite
from pytest_cutover.settings import Environment

pytestmark = pytest.mark.destructive
NEW_RELEASE_CHECK = "smoke/test_version.py::test_deployed_version_is_the_release"


@dataclass
class AppDrill:
    original_revision: int | None = None
    original_tag: str | None = None
    expected_previous: str | None = None
    undo: rollout.Undo | None = None
    undo_error: str = ""
    rolled_back: Waited | None = None
    served_after_undo: str | None = None
    served_after_undo_where: str = ""
    rollback_seconds: float | None = None
    smoke: SuiteRun | None = None
    error_rate_pct: float | None = None
    forward_error: str = ""
    rolled_forward: Waited | None = None
    served_after_forward: str | None = None
    recovery_seconds: float | None = None
    timeline: list[str] = field(default_factory=list)

    def note(self, started: float, text: str) -> None:
        self.timeline.append(f"{time.monotonic() - started:7.2f} s  {text}")


def _wait_for_version(served_version: Any, wanted: str | None,
                      deadline_s: float) -> tuple[str | None, str, bool]:
    seen: dict[str, Any] = {"version": None, "where": ""}

    def check() -> tuple[bool | None, str]:
        seen["version"], seen["where"] = served_version()
        return (True if seen["version"] == wanted else None), seen["where"]

    done = wait(check, deadline_s, 0.5)
    return seen["version"], seen["where"], done.ok


@pytest.fixture(scope="module")
def app_drill(rollouts: Rollouts, target: Environment, rollback_config: dict[str, Any],
              sample: Any, served_version: Any, pytestconfig: pytest.Config) -> AppDrill:
    drill, started = AppDrill(), time.monotonic()
    deadline = float(rollback_config["rollout_timeout_s"])
    try:
        before = rollouts.deployment()
    except KubeUnavailable as exc:
        pytest.fail(f"cannot read the deployment before the drill: {exc}", pytrace=False)
    drill.original_revision = rollout.revision_of(before)
    container = target.data.get("kubernetes", {}).get("container")
    drill.original_tag = rollout.tag_of(rollout.image_of(before["spec"]["template"], container))
    drill.note(started, f"revision {drill.original_revision}, image tag {drill.original_tag}")
    try:
        _roll_back(drill, rollouts, target, rollback_config, sample, served_version, pytestconfig,
                   started, container)
    finally:
        _roll_forward(drill, rollouts, deadline, served_version, started)
    return drill


def _roll_back(drill: AppDrill, rollouts: Rollouts, target: Environment, config: dict[str, Any],
               sample: Any, served_version: Any, pytestconfig: pytest.Config,
               started: float, container: str | None) -> None:
    deadline = float(config["rollout_timeout_s"])
    try:
        drill.undo = rollouts.undo()
    except (rollout.UndoError, KubeUnavailable) as exc:
        drill.undo_error = str(exc)
        drill.note(started, f"undo refused: {exc}")
        return
    drill.expected_previous = config.get("previous_release") or rollout.tag_of(
        rollout.image_of(drill.undo.template, container))
    drill.note(started, f"undo from revision {drill.undo.from_revision} to {drill.undo.to_revision} "
                        f"({drill.expected_previous}) {drill.undo.skipped}")
    drill.rolled_back = rollouts.wait_for_rollout(deadline)
    drill.note(started, f"rollout status: {drill.rolled_back.message}")
    if not drill.rolled_back.ok:
        return
    version, where, ok = _wait_for_version(served_version, drill.expected_previous,
                                           max(1.0, deadline - drill.rolled_back.seconds))
    drill.served_after_undo, drill.served_after_undo_where = version, where
    drill.note(started, f"serves {version!r}")
    if not ok:
        return
    drill.rollback_seconds = time.monotonic() - started
    root = Path(pytestconfig.rootpath)
    drill.smoke = run_suite(root, ["smoke", "-m", "smoke"], _config_path(pytestconfig), target.name,
                            float(config["smoke_timeout_s"]), ["--deselect", NEW_RELEASE_CHECK])
    drill.note(started, f"smoke against {version}: {drill.smoke.describe()}")
    samples = sample(int(config["sample_requests"]))
    drill.error_rate_pct = samples.error_rate_pct
    drill.note(started, f"against {version}: {samples.describe()}")


def _config_path(pytestconfig: pytest.Config) -> Path:
    from pytest_cutover.stash import settings_key

    return Path(pytestconfig.stash[settings_key].path).resolve()


def _roll_forward(drill: AppDrill, rollouts: Rollouts, deadline: float, served_version: Any,
                  started: float) -> None:
    if drill.undo is None or drill.undo.patch is None or drill.original_revision is None:
        return  # nothing was changed
    forward_started = time.monotonic()
    try:
        rollouts.undo(to_revision=drill.original_revision)
    except (rollout.UndoError, KubeUnavailable) as exc:
        drill.forward_error = str(exc)
        drill.note(started, f"roll forward failed: {exc}")
        return
    drill.rolled_forward = rollouts.wait_for_rollout(deadline)
    drill.note(started, f"roll forward, rollout status: {drill.rolled_forward.message}")
    wait_s = max(1.0, deadline - drill.rolled_forward.seconds) if drill.rolled_forward.ok else 0.0
    version, _, ok = _wait_for_version(served_version, drill.original_tag, wait_s)
    drill.served_after_forward = version
    drill.note(started, f"serves {version!r} again")
    if drill.rolled_forward.ok and ok:
        drill.recovery_seconds = time.monotonic() - forward_started


@pytest.fixture
def drill(app_drill: AppDrill, evidence: Any) -> AppDrill:
    evidence("rollback drill timeline", "\n".join(app_drill.timeline))
    return app_drill


def _not_reached(drill: AppDrill) -> str:
    if drill.undo_error:
        return f"the undo was refused: {drill.undo_error}"
    if drill.rolled_back is not None and not drill.rolled_back.ok:
        return f"the rollout of the previous revision did not complete: {drill.rolled_back.message}"
    if drill.served_after_undo != drill.expected_previous:
        return (f"the previous release {drill.expected_previous!r} was never served "
                f"(last: {drill.served_after_undo_where})")
    return "an earlier step failed"


@pytest.mark.checklist("rollback.rollout-undo", "rollback.db-app-undo")
def test_undo_targets_the_previous_revision(drill):
    assert drill.undo is not None, f"the undo was refused: {drill.undo_error}"
    assert drill.undo.patch is not None, f"undo did nothing: {drill.undo.skipped}"
    assert drill.undo.to_revision is not None and drill.undo.to_revision < (drill.original_revision or 0), (
        f"undo went to revision {drill.undo.to_revision} (expected one below {drill.original_revision})")
    assert drill.expected_previous != drill.original_tag, (
        f"the previous revision runs the same image tag {drill.original_tag!r}: nothing to roll back to")


@pytest.mark.checklist("rollback.undo-verified", "t24.rollback-on-staging")
def test_rollout_of_the_previous_revision_completes_within_the_deadline(drill):
    assert drill.rolled_back is not None, _not_reached(drill)
    assert drill.rolled_back.ok, (
        f"rollout of revision {drill.undo.to_revision if drill.undo else '?'} did not complete "
        f"after {drill.rolled_back.seconds:.1f} s: {drill.rolled_back.message}")


@pytest.mark.checklist("rollback.rollout-undo", "rollback.service-restored")
def test_previous_release_is_served_after_the_undo(drill):
    assert drill.served_after_undo_where, f"version never read: {_not_reached(drill)}"
    assert drill.served_after_undo == drill.expected_previous, (
        f"after the undo the app serves {drill.served_after_undo!r} (expected "
        f"{drill.expected_previous!r}); {drill.served_after_undo_where}")


@pytest.mark.checklist("rollback.undo-verified", "rollback.service-restored", "rollback.db-verify")
def test_smoke_checks_pass_against_the_previous_release(drill, evidence):
    assert drill.smoke is not None, f"smoke checks not run: {_not_reached(drill)}"
    evidence("smoke run against the previous release", f"{drill.smoke.command}\n\n{drill.smoke.output_tail}")
    assert drill.smoke.passed, f"smoke against {drill.expected_previous}: {drill.smoke.describe()}"


@pytest.mark.checklist("rollback.error-rate-drops")
def test_error_rate_after_the_undo_is_within_threshold(drill, measure):
    assert drill.error_rate_pct is not None, f"error rate not sampled: {_not_reached(drill)}"
    measure("error_rate_pct", drill.error_rate_pct,
            subject=f"release {drill.expected_previous} after the undo")


@pytest.mark.checklist("rollback.within-30-min")
def test_rollback_completes_within_the_time_budget(drill, measure):
    assert drill.rollback_seconds is not None, f"the rollback never completed: {_not_reached(drill)}"
    measure("rollback_seconds", drill.rollback_seconds, subject="undo until the previous release serves")


@pytest.mark.checklist("t24.rollback-on-staging")
def test_roll_forward_serves_the_original_release_again(drill):
    assert drill.rolled_forward is not None, (
        f"no roll forward: {drill.forward_error or 'the undo changed nothing'}")
    assert drill.rolled_forward.ok, f"roll forward did not complete: {drill.rolled_forward.message}"
    assert drill.served_after_forward == drill.original_tag, (
        f"after the roll forward the app serves {drill.served_after_forward!r} "
        f"(expected {drill.original_tag!r})")


@pytest.mark.checklist("t24.rollback-on-staging")
def test_recovery_completes_within_the_time_budget(drill, measure):
    reason = drill.forward_error or (drill.rolled_forward.message if drill.rolled_forward else "not started")
    assert drill.recovery_seconds is not None, f"the roll forward never completed: {reason}"
    measure("rollback_seconds", drill.recovery_seconds, subject="roll forward until the release serves again")
