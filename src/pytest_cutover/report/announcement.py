"""Draft announcements from the plan's success and rollback templates, filled for this run.

The wording is ours; the structure follows the plan (what happened, impact, what next).
"""

from __future__ import annotations

from typing import Any

from pytest_cutover.verdict import GO, ROLLBACK, Verdict


def _kubectl(env: Any) -> tuple[str, str, str]:
    k8s = env.data.get("kubernetes", {})
    ctx = f" --context {k8s['context']}" if k8s.get("context") else ""
    return k8s.get("deployment", "ils-app"), k8s.get("namespace", "<namespace>"), ctx


def _rollback_steps(env: Any) -> list[str]:
    """The plan's immediate rollback, filled in for this environment."""
    deploy, ns, ctx = _kubectl(env)
    timeout = int(env.data.get("kubernetes", {}).get("rollout_timeout_s", 600))
    return [
        "Announce the rollback in the war room.",
        f"`kubectl rollout undo deployment/{deploy} -n {ns}{ctx}`",
        f"`kubectl rollout status deployment/{deploy} -n {ns}{ctx} --timeout={timeout}s`",
        f"`pytest -m smoke --cutover-env {env.name} --deselect "
        "smoke/test_version.py::test_deployed_version_is_the_release` (the previous release is "
        "served now)",
        "Watch the error rate drop, the service answer and users reach the system.",
        "Update the status page, notify stakeholders, post to the user channels.",
        "Schedule the post-mortem within 24 hours; set a new go-live date.",
    ]


def _database_steps(env: Any) -> list[str]:
    """The plan's database rollback, filled in for this environment."""
    deploy, ns, ctx = _kubectl(env)
    db = env.data.get("database", {})
    tables = db.get("tables") or ["users", "patients", "orders"]
    backups = env.data.get("backups", {}).get("directory", "<backup directory>")
    counts = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)  # noqa: S608 - text for the runbook, never executed
    return [
        f"`kubectl scale deployment {deploy} --replicas=0 -n {ns}{ctx}`",
        f"Restore the last good backup from {backups} (`pg_restore --exit-on-error` for .dump, "
        "`gunzip -c … | psql -v ON_ERROR_STOP=1` for .sql.gz), over "
        f"${db.get('admin_dsn_env') or db.get('dsn_env') or 'DATABASE_URL'}.",
        f"Compare row counts with the backup: `{counts};`",
        f"`kubectl rollout undo deployment/{deploy} -n {ns}{ctx}`",
        f"`kubectl scale deployment {deploy} --replicas=3 -n {ns}{ctx}`",
        f"`pytest -m smoke --cutover-env {env.name}` (deployment verification)",
    ]


def _numbered(steps: list[str]) -> str:
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


def _trigger_lines(verdict: Verdict) -> str:
    lines = []
    for t in verdict.triggers:
        details = "; ".join(t.get("details", [])[:3])
        lines.append(f"- {t['rule']}: **{t['state']}**" + (f" ({details})" if details else ""))
    return "\n".join(lines)


def announcement(verdict: Verdict, env: Any) -> str:
    release = env.release or "the new release"
    if verdict.decision == GO:
        return (
            f"# DRAFT: {release} is live\n\n"
            f"{release} has been deployed to {env.name} ({env.base_url}) and passed the cutover "
            f"checks ({', '.join(verdict.markers) or 'no markers'}).\n\n"
            "What changes for you:\n- [key features]\n- [performance improvements]\n"
            "- [security improvements]\n\n"
            "If anything looks wrong, contact support through the usual channel.\n"
            "Thanks for bearing with us during the switch.\n")
    if verdict.decision == ROLLBACK:
        reasons = "\n".join(f"- {r}" for r in verdict.rollback_reasons[:10])
        fired = [t for t in verdict.triggers if t.get("state") == "fired"]
        brief = ", ".join(t["rule"] for t in fired) or "a rollback trigger fired"
        data = any(t["name"] == "data_integrity" for t in fired)
        database = (f"\n\n## Database rollback for {env.name} (data integrity is in doubt)\n"
                    f"{_numbered(_database_steps(env))}\n") if data else "\n"
        return (
            f"# DRAFT: rollback of {release} on {env.name}\n\n⚠️ Rollback notice\n\n"
            f"{release} is being taken back to the previous version because {brief}.\n\n"
            "[Once the rollback checks pass: the previous version is serving again and the "
            "service works as before.]\n\n"
            "Impact: [describe who was affected and for how long]\n\n"
            "We are fixing the cause and will share a new release date. Sorry for the "
            "disruption.\n\n"
            f"## Rollback triggers (decision point T+0:30)\n{_trigger_lines(verdict)}\n\n"
            f"## Why\n{reasons}\n\n"
            f"## Immediate rollback for {env.name}\n{_numbered(_rollback_steps(env))}"
            f"{database}")
    reasons = "\n".join(f"- {r}" for r in verdict.reasons[:15])
    return (f"# NO-GO for {release} on {env.name}\n\nThe cutover checks did not pass; the release "
            f"does not go ahead until these are resolved:\n{reasons}\n")
