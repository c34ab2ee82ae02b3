"""The project's tooling stays green: import-linter's layers, ruff on the cleaned folders, mypy --strict.

Each tool runs as a subprocess from the repository root, so it reads its section of pyproject.toml
exactly as a developer's run would. A tool that is not installed skips its test with the reason;
`pip install -e '.[dev]'` (scripts/setup) installs all three.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the folders ruff keeps clean: every Python folder of the project, the self-tests (tests/) and the
# reference deployment included (the exceptions they need are per-file-ignores in pyproject.toml)
RUFF_CLEAN = ["src/pytest_cutover", "src/ilsref", "readiness", "smoke", "e2e", "load", "rollback",
              "benchmarks", "tests", "conftest.py"]
TIMEOUT_S = 120


def _require(module: str, dist: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{dist} is not installed in this interpreter (pip install -e '.[dev]')")


def _require_dist(dist: str) -> None:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{dist} is not installed in this interpreter (pip install -e '.[dev]')")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S,
                          check=False)


def _report(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"


def test_import_contracts_are_kept() -> None:
    _require("importlinter", "import-linter")
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = _run(command)
    assert done.returncode == 0, _report(done)
    assert "0 broken" in done.stdout, _report(done)


def test_ruff_finds_nothing_in_the_cleaned_folders() -> None:
    _require("ruff", "ruff")
    done = _run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                 *RUFF_CLEAN])
    assert done.returncode == 0, _report(done)


def test_mypy_strict_passes_on_the_plugin() -> None:
    _require("mypy", "mypy")
    _require_dist("types-requests")  # without the stubs mypy --strict rejects `import requests`
    done = _run([sys.executable, "-m", "mypy", "src/pytest_cutover"])
    assert done.returncode == 0, _report(done)
