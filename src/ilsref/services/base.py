"""What every service's `start(ctx)` receives and fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ilsref.faults import FaultState
from ilsref.runtime import RunDir


@dataclass
class Context:
    run: RunDir
    faults: FaultState
    release: str
    # The `local` environment being built; written to run/local.toml (see docs/architecture.md).
    environment: dict[str, Any] = field(default_factory=dict)
    # Secret values by env-var name; written to run/secrets.env, never into local.toml.
    secrets: dict[str, str] = field(default_factory=dict)
    # Facts services share with each other (ports, DSNs, paths), e.g. facts["postgres_port"].
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def run_config(self) -> Any:
        return self.run.path / "run"
