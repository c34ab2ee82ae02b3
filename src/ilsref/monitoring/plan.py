"""The monitoring plan: everything the supervisor needs, decided once by the service at `up`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    address: str  # host:port
    scheme: str = "http"
    ca_file: str | None = None  # for https targets signed by the run's own CA


@dataclass(frozen=True)
class MonitoringPlan:
    directory: str  # <run>/monitoring: generated config, storage, pid bookkeeping
    faults_file: str  # <run>/run/faults.json
    logs_dir: str
    prometheus_binary: str
    alertmanager_binary: str
    prometheus_port: int
    alertmanager_port: int
    webhook_url: str  # where the Alertmanager receiver delivers notifications
    dead_port: int  # nothing listens here; `prom_target_down` points a target at it
    targets: list[ScrapeTarget] = field(default_factory=list)

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.alertmanager_port}"

    def path(self, name: str) -> Path:
        return Path(self.directory) / name

    def save(self, file: Path) -> None:
        file.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, file: Path) -> MonitoringPlan:
        raw = json.loads(file.read_text())
        raw["targets"] = [ScrapeTarget(**t) for t in raw["targets"]]
        return cls(**raw)
