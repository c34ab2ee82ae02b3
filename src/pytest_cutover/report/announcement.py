"""Draft announcements from the plan's success and rollback templates, filled for this run.

The wording is ours; the structure follows the plan (what happened, impact, what next).
"""

from __future__ import annotations

from typing import Any

from pytest_cutover.verdict import GO, ROLLBACK, Verdict


def _rollback_steps(env: Any) -> list[str]:
    k8s = env.data.get("kubernetes", {})
    ns = k8s.get("namespace", "<namespace>")
    deploy = k8s.get("deployment", "ils-app")
    return [
        f"kubectl rollout undo deployment/{deploy} -n {ns}",
        f"kubectl rollout status deployment/{deploy} -n {ns} --timeout=10m",
        f"pytest -m smoke --cutover-env {env.name}",
        "if data is affected: scale to 0, restore the last good backup, verify row counts, "
        f"roll back, scale back (kubectl scale deployment {deploy} --replicas=3 -n {ns})",
    ]


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
        steps = "\n".join(f"{i}. `{s}`" for i, s in enumerate(_rollback_steps(env), 1))
        return (
            f"# DRAFT: rollback of {release}\n\n"
            f"We are returning {env.name} to the previous version of the service because the "
            f"rollback criteria were met:\n{reasons}\n\n"
            "Impact: [describe who was affected and for how long]\n\n"
            "The previous version is being restored; we will share a new date for the release once "
            "the cause is fixed. Sorry for the disruption.\n\n"
            f"## Rollback steps for {env.name}\n{steps}\n")
    reasons = "\n".join(f"- {r}" for r in verdict.reasons[:15])
    return (f"# NO-GO for {release} on {env.name}\n\nThe cutover checks did not pass; the release "
            f"does not go ahead until these are resolved:\n{reasons}\n")
