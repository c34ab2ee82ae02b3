"""What a load run does: profile, users, duration, caps, user model, budgets (the `load` table).

Pure module: no pytest, no locust. `plan(table, env)` turns an environment's `[load]` table and the
`CUTOVER_LOAD_*` variables (which win over the table) into a `LoadPlan`: a list of stages the
locustfile's shape follows, already capped by `max_users` / `max_duration_s`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_cutover.thresholds import Threshold

PROFILES = ("ci", "staged", "spike", "soak")

# The plan's k6 stages: 2m->50, 5m@50, 2m->100, 5m@100, 1m->200, 3m@200, 2m->0 (seconds, users).
STAGED = ((120, 50), (300, 50), (120, 100), (300, 100), (60, 200), (180, 200), (120, 0))
STAGED_PEAK = 200

DEFAULTS: dict[str, Any] = {
    "profile": "ci", "users": 10, "duration_s": 30.0, "time_scale": 1.0,
    "max_users": 200, "max_duration_s": 1800.0, "workers": 0,
    "account": "smoke", "think_time_s": [1.0, 3.0],
    "user_weights": {"practitioner": 4, "visitor": 1},
    "task_weights": {"dashboard": 3, "patients": 4, "patient": 3, "order": 1, "reports": 2},
    "warmup_s": 0.0, "abort_after_s": 10.0, "abort_min_requests": 20, "timeout_margin_s": 60.0,
    "user_class": "fast",
    # the server side: the app container's limits (ILS manifests: 1 CPU, 2 GiB), post-launch
    "cpu_limit_cores": 1.0, "memory_limit_mb": 2048.0, "post_launch_window": "1h",
    "error_log_patterns": ["ERROR", "Traceback", "FATAL", "Unhandled"], "max_error_log_lines": 0,
    # above this CPU use (generator process or machine) a failing load reading is inconclusive
    "generator_max_cpu_pct": 90.0,
    # ... and so is one taken while the generator's event loop ran later than this at P95
    "generator_max_lag_ms": 100.0,
}
# The ci profile's first seconds (TLS handshakes, sign-ins, cold connection pools) are set-up,
# not the steady state the budgets speak of: discarded unless warmup_s is configured.
CI_WARMUP_S = 3.0

# Per-endpoint P95 budgets, keyed by Locust request name (fnmatch patterns; the exact name wins
# over a pattern). From the plan's k6 script: health P95 < 200 ms, API P95 < 1000 ms.
DEFAULT_BUDGETS: dict[str, dict[str, float]] = {
    "/api/health": {"warn": 100, "crit": 200},
    "/api/auth/jwt/login": {"warn": 1000, "crit": 2000},  # once per user; hashing is slow on purpose
    "/api/*": {"warn": 500, "crit": 1000},
}

# Thresholds this part of the suite adds; environments override them under [thresholds].
FALLBACK_THRESHOLDS: dict[str, Threshold] = {
    "success_error_rate_pct": Threshold(crit=1, unit="%"),  # success criteria: < 1 %
    "success_p95_ms": Threshold(crit=500, unit="ms"),  # success criteria: < 500 ms
    "server_client_count_gap_pct": Threshold(warn=2, crit=10, unit="%"),
    "p95_gap_ms": Threshold(warn=100, unit="ms"),  # client P95 outside the server's bucket
    "generator_cpu_pct": Threshold(warn=90, unit="%"),
    "memory_growth_pct": Threshold(warn=10, crit=25, unit="%"),
    "slow_queries_per_min": Threshold(warn=1, crit=10, unit="/min"),
    "hpa_replica_shortfall": Threshold(crit=0, unit="replicas"),
}

# CUTOVER_LOAD_<NAME> overrides for a single run (e.g. a CI job with a shorter profile).
ENV_OVERRIDES = {"profile": str, "users": int, "duration_s": float, "time_scale": float,
                 "workers": int, "user_class": str, "warmup_s": float}


class PlanError(ValueError):
    """The load configuration cannot be run as given (an operator mistake)."""


@dataclass(frozen=True)
class LoadPlan:
    profile: str
    stages: list[tuple[float, int]]  # (seconds, users at the end of the stage), ramps are linear
    workers: int
    account: str
    user_class: str  # "fast" (FastHttpUser) or "http" (HttpUser)
    think_time_s: tuple[float, float]
    user_weights: dict[str, int]
    task_weights: dict[str, int]
    warmup_s: float  # the first seconds at the target load are discarded (cold caches, handshakes)
    abort_after_s: float
    abort_min_requests: int
    timeout_margin_s: float
    budgets: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)  # caps applied, said in the report

    @property
    def duration_s(self) -> float:
        return sum(seconds for seconds, _ in self.stages)

    @property
    def peak_users(self) -> int:
        return max((users for _, users in self.stages), default=0)

    @property
    def hard_timeout_s(self) -> float:
        return self.duration_s + self.timeout_margin_s

    @property
    def measured_s(self) -> float:
        return self.duration_s - self.warmup_s

    def model_json(self) -> str:
        """What the locustfile reads from CUTOVER_LOAD_MODEL."""
        return json.dumps({"think_time_s": list(self.think_time_s), "user_class": self.user_class,
                           "user_weights": self.user_weights, "task_weights": self.task_weights})

    def stages_json(self) -> str:
        return json.dumps([[seconds, users] for seconds, users in self.stages])

    def describe(self) -> str:
        mode = f"{self.workers} workers" if self.workers else "one process"
        warmup = f" after a {self.warmup_s:g} s warm-up" if self.warmup_s else ""
        return (f"profile {self.profile!r}: {len(self.stages)} stages, peak {self.peak_users} users, "
                f"{self.measured_s:.0f} s measured{warmup}, {mode}, {self.user_class} users")


def _stages(profile: str, users: int, duration: float, scale: float) -> list[tuple[float, int]]:
    if profile == "staged":
        factor = users / STAGED_PEAK
        return [(seconds * scale, round(peak * factor)) for seconds, peak in STAGED]
    if profile == "ci":
        ramp = min(2.0, duration / 5)
        return [(ramp, users), (duration - ramp, users)]
    if profile == "spike":
        base = max(1, users // 4)
        parts = ((0.1, base), (0.3, base), (0.05, users), (0.25, users), (0.05, base), (0.25, base))
        return [(duration * share, count) for share, count in parts]
    ramp = min(60.0, duration * 0.05)  # soak: a gentle ramp, then hold for long
    return [(ramp, users), (duration - ramp, users)]


def plan(table: Mapping[str, Any], env: Mapping[str, str]) -> LoadPlan:
    settings = {**DEFAULTS, **table}
    problems: list[str] = []
    for name, kind in ENV_OVERRIDES.items():
        raw = env.get(f"CUTOVER_LOAD_{name.upper()}")
        if raw:
            try:
                settings[name] = kind(raw)
            except ValueError:
                problems.append(f"CUTOVER_LOAD_{name.upper()}={raw!r} is not a valid {kind.__name__}")
    profile = settings["profile"]
    if profile not in PROFILES:
        problems.append(f"load profile {profile!r} is unknown; expected one of {', '.join(PROFILES)}")
    if settings["user_class"] not in ("fast", "http"):
        problems.append(f"load user_class {settings['user_class']!r}: expected 'fast' or 'http'")
    think = settings["think_time_s"]
    if not (isinstance(think, list) and len(think) == 2 and 0 <= think[0] <= think[1]):
        problems.append(f"load think_time_s {think!r}: expected [min, max] seconds with min <= max")
    if problems:
        raise PlanError("; ".join(problems))

    notes: list[str] = []
    staged = profile == "staged"
    users = STAGED_PEAK if staged and "users" not in table and "CUTOVER_LOAD_USERS" not in env \
        else int(settings["users"])
    if users > settings["max_users"]:
        notes.append(f"users capped from {users} to max_users {settings['max_users']}")
        users = int(settings["max_users"])
    stages = _stages(profile, max(1, users), float(settings["duration_s"]), float(settings["time_scale"]))
    if profile == "ci" and "warmup_s" not in table and not env.get("CUTOVER_LOAD_WARMUP_S"):
        settings["warmup_s"] = CI_WARMUP_S
    if float(settings["warmup_s"]) > 0:  # ramp to the first stage's users; discarded afterwards
        stages = [(float(settings["warmup_s"]), stages[0][1]), *stages]
    total = sum(seconds for seconds, _ in stages)
    limit = float(settings["max_duration_s"])
    if total > limit:
        notes.append(f"duration capped from {total:.0f} s to max_duration_s {limit:.0f} s")
        stages = [(seconds * limit / total, count) for seconds, count in stages]
    return LoadPlan(
        profile=profile, stages=[(round(s, 3), c) for s, c in stages if s > 0],
        workers=int(settings["workers"]), account=str(settings["account"]),
        user_class=str(settings["user_class"]), think_time_s=(float(think[0]), float(think[1])),
        user_weights=dict(settings["user_weights"]), task_weights=dict(settings["task_weights"]),
        warmup_s=float(settings["warmup_s"]), abort_after_s=float(settings["abort_after_s"]),
        abort_min_requests=int(settings["abort_min_requests"]),
        timeout_margin_s=float(settings["timeout_margin_s"]),
        budgets=dict(settings.get("budgets") or DEFAULT_BUDGETS), notes=notes)


def setting(table: Mapping[str, Any], name: str) -> Any:
    """A `load` setting that is not part of the plan (server side, post-launch), with default."""
    return table.get(name, DEFAULTS[name])


def users_at(stages: list[list[float]] | list[tuple[float, int]], elapsed: float) -> int | None:
    """Users wanted `elapsed` seconds into the run (linear ramps), or None when the run is over.
    Shared by the locustfile's shape and its unit tests."""
    start, previous = 0.0, 0.0
    for seconds, users in stages:
        if elapsed < start + seconds:
            share = (elapsed - start) / seconds if seconds else 1.0
            return math.ceil(previous + (users - previous) * share)
        start, previous = start + seconds, users
    return None
