"""Benchmark load: one endpoint, no think time; FastHttpUser or HttpUser (BENCH_USER_CLASS).

Used by benchmarks/load_accuracy.py only; TLS verified against BENCH_CA_BUNDLE.
"""

from __future__ import annotations

import os

import gevent.ssl
from locust import HttpUser, constant, task
from locust.contrib.fasthttp import FastHttpUser

PATH = os.environ.get("BENCH_PATH", "/api/health")
CA = os.environ.get("BENCH_CA_BUNDLE") or None


def _tls(cafile: str | None = None, **kwargs: object) -> gevent.ssl.SSLContext:
    return gevent.ssl.create_default_context(cafile=CA or cafile)


if os.environ.get("BENCH_USER_CLASS", "fast") == "http":
    class Hammer(HttpUser):
        wait_time = constant(0)

        def on_start(self) -> None:
            self.client.verify = CA or True

        @task
        def hit(self) -> None:
            self.client.get(PATH, name=PATH)
else:
    class Hammer(FastHttpUser):  # type: ignore[no-redef]
        wait_time = constant(0)
        insecure = False
        ssl_context_factory = _tls

        @task
        def hit(self) -> None:
            self.client.get(PATH, name=PATH)
