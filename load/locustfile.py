"""The ILS load model for Locust: practitioners and anonymous visitors.

Run by the load gate (load/test_load_gate.py) in a subprocess, never imported by pytest. Also
usable by hand: `locust -f load/locustfile.py -H https://ils.example.com` (see load/README.md).

Inputs (environment variables, set by the gate):
  CUTOVER_LOAD_EMAIL / CUTOVER_LOAD_PASSWORD   the practitioner account (each user logs in once)
  CUTOVER_LOAD_CA_BUNDLE    CA bundle that verifies the target's certificate (default: system)
  CUTOVER_LOAD_MODEL        JSON: think_time_s, user_class (fast|http), user_weights, task_weights
  CUTOVER_LOAD_STAGES       JSON [[seconds, users], ...]: the profile's shape (linear ramps)
  CUTOVER_LOAD_ABORT        JSON: error_rate_pct, p95_ms, after_s, min_requests (abort-on-fail)
  CUTOVER_LOAD_WARMUP_S     seconds whose statistics are discarded (reset) before measuring
  CUTOVER_LOAD_STATS        where the exact final statistics are written (JSON) when Locust quits
                            (with `history`: users, P95 and error rate sampled every second)
  CUTOVER_LOAD_LEAK_SAMPLES where every 50th answer (at most 40 per process) is written as JSON
                            lines, for the run's leak detector (pytest_cutover.leaks)
  CUTOVER_LOAD_LAG          where each process that runs users writes how late its event loop
                            woke from timed sleeps (JSON, `<path>.<pid>`): requests waiting in
                            the generator inflate every client-side time (pytest_cutover.clients.machine)
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import os
import time
from typing import Any

import gevent
import gevent.lock
import gevent.ssl
from locust import HttpUser, LoadTestShape, between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsEntry

from pytest_cutover.loadplan import DEFAULTS, users_at

MODEL: dict[str, Any] = {**DEFAULTS, **json.loads(os.environ.get("CUTOVER_LOAD_MODEL") or "{}")}
STAGES: list[list[float]] = json.loads(os.environ.get("CUTOVER_LOAD_STAGES") or "[]")
ABORT: dict[str, float] = json.loads(os.environ.get("CUTOVER_LOAD_ABORT") or "{}")
CA_BUNDLE = os.environ.get("CUTOVER_LOAD_CA_BUNDLE") or None
WARMUP_S = float(os.environ.get("CUTOVER_LOAD_WARMUP_S") or 0)
STATS_FILE = os.environ.get("CUTOVER_LOAD_STATS")
# Orders the load creates carry this run-specific prefix in their notes (ILS's orders have no
# patient-name column: docs/ils-contract.md db.orders); the gate deletes them after.
ORDER_PREFIX = os.environ.get("CUTOVER_LOAD_ORDER_PREFIX") or "cutover-load"
ABORT_WINDOW_S = 10
# Once-per-user sign-in requests: kept out of the judged total (in a short run they would be ~10 %
# of all requests instead of a fraction of a per mille); they have their own budget.
SETUP_REQUESTS = frozenset({"/api/auth/jwt/login", "/api/csrf-token"})
PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
# One sign-in in flight per generator process: ILS's failed-login limiter counts a sign-in while it
# runs and gives it back only once it succeeded (5 per 15 minutes per address, docs/ils-contract.md
# limit.failed-login), so users signing in all at once are refused 429 by it (docs/traffic-budget.md).
SIGN_IN = gevent.lock.Semaphore(1)
HISTORY_LIMIT = 3600  # one sample a second: an hour of run is plenty for the report's chart
_run: dict[str, Any] = {"aborted": "", "history": []}
LEAK_SAMPLES = os.environ.get("CUTOVER_LOAD_LEAK_SAMPLES")
LEAK_SAMPLE_EVERY, LEAK_SAMPLE_MAX, LEAK_SAMPLE_CHARS = 50, 40, 20_000
_answers = itertools.count()
LAG_FILE = os.environ.get("CUTOVER_LOAD_LAG")
LAG_INTERVAL_S = 0.05  # the probe's timed sleep; its overshoot is the loop's lag
LAG_MAX_SAMPLES = 200_000  # ~3 hours of probing; the histogram below stays small anyway
LAG_CAP_MS = 60_000  # a longer stall counts as this: keeps the histogram's keys bounded
LAG_WRITE_EVERY = 20  # samples between two writes of the file (about a second)
_lag: collections.Counter[int] = collections.Counter()  # {ms late, rounded up: count}


def _plain_headers(headers: Any) -> dict[str, str]:
    """Name -> one string (FastHttpUser's headers may hold a list per name)."""
    return {str(name): ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            for name, value in (headers or {}).items()}


@events.request.add_listener
def _sample_for_leaks(request_type: str, name: str, response: Any = None, **_: Any) -> None:
    """A few answers of the load go to the leak detector: one file per process, no locking."""
    seen = next(_answers)
    if not LEAK_SAMPLES or response is None or name in SETUP_REQUESTS or seen % LEAK_SAMPLE_EVERY \
            or seen // LEAK_SAMPLE_EVERY >= LEAK_SAMPLE_MAX:
        return
    try:
        sample = {"method": request_type, "url": str(getattr(response, "url", None) or name),
                  "status": int(response.status_code or 0) or None,
                  "headers": _plain_headers(response.headers),
                  "text": (response.text or "")[:LEAK_SAMPLE_CHARS]}
        with open(f"{LEAK_SAMPLES}.{os.getpid()}", "a", encoding="utf-8") as out:
            out.write(json.dumps(sample) + "\n")
    except Exception:  # noqa: BLE001, S110 - a sample that cannot be taken is only a lost sample
        pass


def tls_context(cafile: str | None = None, **kwargs: Any) -> gevent.ssl.SSLContext:
    """FastHttpUser's TLS: verify against the configured CA bundle, never `insecure`."""
    return gevent.ssl.create_default_context(cafile=CA_BUNDLE or cafile, **kwargs)


if MODEL["user_class"] == "http":
    class Client(HttpUser):
        abstract = True

        def on_start(self) -> None:
            self.client.verify = CA_BUNDLE or True
else:
    class Client(FastHttpUser):  # type: ignore[no-redef]
        abstract = True
        insecure = False
        ssl_context_factory = tls_context
        network_timeout = connection_timeout = 30.0


class Practitioner(Client):
    """An eye-care practitioner: logs in once, then works through the day's screens."""

    weight = int(MODEL["user_weights"].get("practitioner", 1))
    wait_time = between(*MODEL["think_time_s"])
    _orders = itertools.count(1)

    def on_start(self) -> None:
        super().on_start()
        self.token = ""
        self.csrf = ""
        self.patient_ids: list[str] = []
        self.patient_names: list[str] = []
        email, password = os.environ.get("CUTOVER_LOAD_EMAIL"), os.environ.get("CUTOVER_LOAD_PASSWORD")
        if not (email and password):
            raise RuntimeError("CUTOVER_LOAD_EMAIL and CUTOVER_LOAD_PASSWORD must be set")
        with SIGN_IN, self.client.post("/api/auth/jwt/login", json={"email": email, "password": password},
                                       name="/api/auth/jwt/login", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"login answered {response.status_code}")
                return
            self.token = response.json().get("accessToken", "")
        csrf = self.client.get("/api/csrf-token", name="/api/csrf-token", headers=self.auth)
        if csrf.status_code == 200:
            self.csrf = csrf.json().get("csrfToken", "")  # the cookie jar keeps `csrf-token`

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def dashboard(self) -> None:
        self.client.get("/api/auth/jwt/me", headers=self.auth, name="/api/auth/jwt/me")
        self.client.get("/api/analytics/overview", headers=self.auth, name="/api/analytics/overview")

    def patients(self) -> None:
        response = self.client.get("/api/patients?limit=20", headers=self.auth, name="/api/patients")
        if response.status_code == 200:
            found = [p for p in response.json()[:20] if "id" in p]
            self.patient_ids = [str(p["id"]) for p in found]
            self.patient_names = [str(p.get("name", "")) for p in found]

    def patient(self) -> None:
        if not self.patient_ids:
            return self.patients()
        pid = self.patient_ids[next(self._orders) % len(self.patient_ids)]
        self.client.get(f"/api/patients/{pid}", headers=self.auth, name="/api/patients/[id]")
        return None

    def order(self) -> None:
        if not self.patient_ids:  # an order is for one of the practice's patients
            return self.patients()
        n = next(self._orders)
        pick = n % len(self.patient_ids)
        body = {"patientId": self.patient_ids[pick], "patientName": self.patient_names[pick],
                "lensType": "Single Vision", "lensMaterial": "Polycarbonate",
                "coating": "Anti-Reflective", "odSphere": -1.25, "osSphere": -1.0, "pd": 63,
                "notes": f"{ORDER_PREFIX} {n} created by the cutover load test"}
        self.client.post("/api/orders", json=body, name="/api/orders",
                         headers={**self.auth, "X-CSRF-Token": self.csrf})
        return None

    def reports(self) -> None:
        self.client.get("/api/bi/summary", headers=self.auth, name="/api/bi/summary")
        self.client.get("/api/clinical/reporting/reports", headers=self.auth,
                        name="/api/clinical/reporting/reports")

    # Locust reads this class attribute; the weights come from the model
    tasks = {f: int(MODEL["task_weights"].get(f.__name__, 0))  # noqa: RUF012
             for f in (dashboard, patients, patient, order, reports)
             if int(MODEL["task_weights"].get(f.__name__, 0)) > 0}


class Visitor(Client):
    """Someone who opens the homepage; monitors hitting the health endpoint."""

    weight = int(MODEL["user_weights"].get("visitor", 1))
    wait_time = between(*MODEL["think_time_s"])

    @task(2)
    def homepage(self) -> None:
        self.client.get("/", name="/")

    @task(1)
    def health(self) -> None:
        self.client.get("/api/health", name="/api/health")


if STAGES:
    class ProfileShape(LoadTestShape):
        """The profile's stages (computed by pytest_cutover.loadplan): linear ramps, then holds."""

        def tick(self) -> tuple[int, float] | None:
            users = users_at(STAGES, self.get_run_time())
            if users is None:
                return None
            return users, float(max(1, max(u for _, u in STAGES)))


def _watch_for_sustained_breach(environment: Any) -> None:
    """Abort-on-fail: stop the run when error rate or P95 stays beyond its critical level for
    `after_s` seconds over a sliding window (protects the target, like k6's abortOnFail)."""
    crit_err, crit_p95 = ABORT.get("error_rate_pct"), ABORT.get("p95_ms")
    after_s, min_requests = float(ABORT.get("after_s", 10)), int(ABORT.get("min_requests", 20))
    history: collections.deque[tuple[float, int, int]] = collections.deque(maxlen=ABORT_WINDOW_S + 1)
    breach_since: float | None = None
    gevent.sleep(WARMUP_S)  # the warm-up is not judged, so it cannot abort the run either
    deadline = time.monotonic() + 7 * 24 * 3600  # bounded: the run itself has a hard timeout
    while time.monotonic() < deadline:
        gevent.sleep(1.0)
        total = environment.stats.total
        now = time.monotonic()
        history.append((now, total.num_requests, total.num_failures))
        requests = history[-1][1] - history[0][1]
        if requests < min_requests:
            breach_since = None
            continue
        error_pct = 100.0 * (history[-1][2] - history[0][2]) / requests
        p95 = total.get_current_response_time_percentile(0.95) or 0
        reasons = ([f"error rate {error_pct:.1f}% > {crit_err:g}%"]
                   if crit_err is not None and error_pct > crit_err else [])
        reasons += [f"P95 {p95:.0f} ms > {crit_p95:g} ms"] if crit_p95 is not None and p95 > crit_p95 else []
        breach_since = (breach_since or now) if reasons else None
        if breach_since is not None and now - breach_since >= after_s:
            _run["aborted"] = (f"aborted after {after_s:g} s of sustained critical breach: "
                               f"{', '.join(reasons)} (last {ABORT_WINDOW_S} s)")
            environment.runner.quit()
            return


def _window_p95(older: dict[int, int], newer: dict[int, int]) -> float | None:
    """P95 of the requests between two snapshots of Locust's cumulative {rounded ms: count}."""
    counts = {ms: n - older.get(ms, 0) for ms, n in newer.items() if n > older.get(ms, 0)}
    total = sum(counts.values())
    if not total:
        return None
    seen = 0
    for ms in sorted(counts):
        seen += counts[ms]
        if seen >= 0.95 * total:
            return float(ms)
    return None  # pragma: no cover - the loop reaches the total


def _work_counters(stats: Any) -> tuple[int, int, dict[int, int]]:
    """Requests, failures and response times of the judged requests (sign-in left out, as in
    the gate's total)."""
    requests = failures = 0
    times: collections.Counter[int] = collections.Counter()
    for entry in stats.entries.values():
        if entry.name not in SETUP_REQUESTS:
            requests, failures = requests + entry.num_requests, failures + entry.num_failures
            times.update(entry.response_times)
    return requests, failures, dict(times)


def _sample_history(environment: Any) -> None:
    """Every second: users, and the P95 and error rate of the last ten seconds of the judged
    requests, for the report's load chart. Computed from snapshots of the cumulative counters,
    so the warm-up reset cannot skew them: the window restarts when the counters do."""
    window: collections.deque[tuple[int, int, dict[int, int]]] = collections.deque(
        maxlen=ABORT_WINDOW_S + 1)
    started = time.monotonic()
    while len(_run["history"]) < HISTORY_LIMIT:
        gevent.sleep(1.0)
        counters = _work_counters(environment.stats)
        if window and counters[0] < window[-1][0]:
            window.clear()  # the warm-up was discarded: statistics start again from zero
        window.append(counters)
        requests = window[-1][0] - window[0][0]
        failures = window[-1][1] - window[0][1]
        older = window[0][2] if len(window) > 1 else {}
        _run["history"].append({
            "t": round(time.monotonic() - started, 1), "users": environment.runner.user_count,
            "requests": counters[0], "p95_ms": _window_p95(older, window[-1][2]),
            "error_rate_pct": round(100.0 * failures / requests, 3) if requests else None,
            "warmup": WARMUP_S > 0 and not _run.get("warmup_discarded", False)})


def _discard_warmup(environment: Any) -> None:
    _run["warmup_requests"] = environment.stats.total.num_requests
    environment.stats.reset_all()  # on the master, the merged statistics of every worker
    _run["warmup_discarded"] = True


def _write_lag() -> None:
    if not LAG_FILE:
        return
    tmp = f"{LAG_FILE}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump({"interval_ms": LAG_INTERVAL_S * 1000,
                       "histogram": {str(ms): n for ms, n in sorted(_lag.items())}}, out)
        os.replace(tmp, f"{LAG_FILE}.{os.getpid()}")
    except OSError:  # a figure not written is only missing (the gate then claims nothing)
        pass


def _probe_loop_lag() -> None:
    """Client-side queueing: a greenlet sleeping LAG_INTERVAL_S at a time records how late it
    woke. A loop busy with its users (or a process starved of CPU) wakes it late, and every
    request that was due then waited too: its measured time grew by that much before it was
    even sent. The warm-up is not judged, so it is not probed either."""
    gevent.sleep(WARMUP_S)
    loop = gevent.get_hub().loop
    for taken in range(LAG_MAX_SAMPLES):  # bounded; the process quits long before
        loop.update_now()  # the timer's start is now, not the loop's cached time
        before = time.monotonic()
        gevent.sleep(LAG_INTERVAL_S)
        late_ms = (time.monotonic() - before - LAG_INTERVAL_S) * 1000
        _lag[min(LAG_CAP_MS, max(0, math.ceil(late_ms)))] += 1
        if taken % LAG_WRITE_EVERY == LAG_WRITE_EVERY - 1:
            _write_lag()


@events.quitting.add_listener
def _write_lag_at_quit(environment: Any, **_: Any) -> None:
    if _lag:
        _write_lag()


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    if LAG_FILE and not isinstance(environment.runner, MasterRunner) and not _run.get("lag_probe"):
        _run["lag_probe"] = gevent.spawn(_probe_loop_lag)  # where users run: the process, each worker
    if isinstance(environment.runner, WorkerRunner):
        return
    _run["workers"] = len(getattr(environment.runner, "clients", {}) or {})  # gone at quitting
    if ABORT:
        gevent.spawn(_watch_for_sustained_breach, environment)
    gevent.spawn(_sample_history, environment)
    if WARMUP_S > 0:
        gevent.spawn_later(WARMUP_S, _discard_warmup, environment)


def _entry(entry: Any) -> dict[str, Any]:
    return {"name": entry.name, "method": entry.method or "", "requests": entry.num_requests,
            "failures": entry.num_failures, "max_ms": entry.max_response_time or 0,
            "rps": entry.total_rps, **{key: entry.get_response_time_percentile(q) or 0
                                       for key, q in PERCENTILES.items()}}


@events.quitting.add_listener
def _write_final_stats(environment: Any, **_: Any) -> None:
    """Exact final numbers (CSV output misses the last second): total and per endpoint."""
    if not STATS_FILE or isinstance(environment.runner, WorkerRunner):
        return
    stats = environment.stats
    workers = _run.get("workers", 0)
    work = StatsEntry(stats, "Aggregated (without sign-in)", "")
    for entry in stats.entries.values():
        if entry.name not in SETUP_REQUESTS:
            work.extend(entry)
    payload = {"total": _entry(work), "all": _entry(stats.total),
               "endpoints": [_entry(e) for e in stats.entries.values()],
               "started": stats.total.start_time, "ended": time.time(), "aborted": _run["aborted"],
               "warmup_requests": _run.get("warmup_requests", 0),
               "workers": workers, "history": _run["history"],
               "errors": [e.to_dict() for e in list(stats.errors.values())[:20]]}
    tmp = f"{STATS_FILE}.tmp"
    with open(tmp, "w") as out:
        json.dump(payload, out, indent=2)
    os.replace(tmp, STATS_FILE)
    environment.process_exit_code = 0  # the gate judges the numbers; non-zero means Locust broke
