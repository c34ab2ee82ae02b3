"""A throwaway cutover project for pytester runs (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INNER_ADDOPTS = "-p no:locust -p no:playwright -p no:base_url -p no:cacheprovider"


CONFIG = """
[cutover]
default_environment = "local"

[environments.local]
kind = "other"
base_url = "{url}"
release = "2.0.0"

[environments.staging]
kind = "staging"
base_url = "{url}"
release = "2.0.0"

[environments.production]
kind = "production"
base_url = "{url}"
release = "2.0.0"
"""


@dataclass
class Project:
    pytester: pytest.Pytester
    url: str

    @property
    def path(self) -> Path:
        return self.pytester.path

    def config(self, extra: str = "", base: str | None = None) -> Path:
        text = textwrap.dedent(base if base is not None else CONFIG).format(url=self.url)
        path = self.path / "cutover.toml"
        path.write_text(text + textwrap.dedent(extra))
        return path

    def ini(self, *lines: str, addopts: str = "") -> None:
        body = "\n".join(["[pytest]", f"addopts = {INNER_ADDOPTS} {addopts}", *lines])
        (self.path / "pytest.ini").write_text(body + "\n")

    def signoffs(self, text: str) -> None:
        (self.path / "signoffs.toml").write_text(textwrap.dedent(text))

    def tests(self, folder: str = "", **files: str) -> None:
        for name, text in files.items():
            path = self.path / folder / f"{name}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest(*args)

    def report(self, name: str) -> Path:
        return self.path / "reports" / name

    def verdict(self) -> dict[str, Any]:
        return json.loads(self.report("verdict.json").read_text())
