"""examples/ci: the GitHub Actions and GitLab CI gates validate against the published schemas
(check-jsonschema's vendored copies: offline) and do what the gate must: run smoke and readiness
on staging, publish summary.md, keep reports/, fail on NO-GO and ROLLBACK, secrets from the store."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {"github-actions.yml": "vendor.github-workflows", "gitlab-ci.yml": "vendor.gitlab-ci"}


def _validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed in this interpreter (pip install -e '.[dev]')")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           str(path)], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("name", "schema"), EXAMPLES.items())
def test_example_validates_against_the_published_schema(name: str, schema: str) -> None:
    result = _validate(ROOT / "examples/ci" / name, schema)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "schema", "break_it"), [
    ("github-actions.yml", "vendor.github-workflows", ("runs-on:", "runs_on:")),
    ("gitlab-ci.yml", "vendor.gitlab-ci", ("when: always", "when: sometimes"))])
def test_the_validation_would_catch_a_broken_file(tmp_path: Path, name: str, schema: str,
                                                  break_it: tuple[str, str]) -> None:
    broken = tmp_path / name
    broken.write_text((ROOT / "examples/ci" / name).read_text().replace(*break_it))
    assert _validate(broken, schema).returncode != 0


def test_github_gate_runs_on_tags_or_by_hand_and_fails_on_no_go_and_rollback() -> None:
    text = (ROOT / "examples/ci/github-actions.yml").read_text()
    doc = yaml.safe_load(text)
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["tags"] and "workflow_dispatch" in triggers
    steps = doc["jobs"]["gate"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'pytest -m "smoke or readiness" --cutover-env "$CUTOVER_ENV"' in runs
    assert doc["jobs"]["gate"]["env"]["CUTOVER_ENV"].endswith("'staging' }}")
    assert 'reports/summary.md >> "$GITHUB_STEP_SUMMARY"' in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "reports/" and upload["if"] == "always()"
    assert '[ "$decision" != "GO" ]' in runs and "exit 1" in runs
    for name, value in doc["jobs"]["gate"]["env"].items():
        if name != "CUTOVER_ENV":
            assert value == f"${{{{ secrets.{name} }}}}", name  # every credential from the store


def test_gitlab_gate_keeps_reports_and_passes_the_verdict_exit_code() -> None:
    doc = yaml.safe_load((ROOT / "examples/ci/gitlab-ci.yml").read_text())
    job = doc["cutover-gate"]
    script = "\n".join(job["script"])
    assert 'pytest -m "smoke or readiness" --cutover-env "$CUTOVER_ENV"' in script
    assert "exit $code" in script and "reports/summary.md" in script
    assert job["artifacts"]["when"] == "always" and "reports/" in job["artifacts"]["paths"]
    assert any("CI_COMMIT_TAG" in r["if"] for r in job["rules"])
