"""Run the stand-ins in one process, one port each, until SIGTERM.

python -m ilsref.standins --run-dir RUN --release 2.0.0 \
    --grafana-port P --sentry-port P --logs-port P --webhook-port P
Secrets come from the environment, not argv: ILSREF_GRAFANA_TOKEN, ILSREF_SENTRY_TOKEN,
ILSREF_SENTRY_DSN_KEY.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path

from ilsref.faults import FaultState
from ilsref.runtime import stop_on_signals
from ilsref.standins.common import StandinServer
from ilsref.standins.grafana import GrafanaHandler
from ilsref.standins.logstore import LogStoreHandler
from ilsref.standins.sentry import SentryHandler
from ilsref.standins.webhook import WebhookHandler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ilsref.standins")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--release", required=True)
    for name in ("grafana", "sentry", "logs", "webhook"):
        parser.add_argument(f"--{name}-port", type=int, required=True)
    args = parser.parse_args(argv)

    faults = FaultState(args.run_dir / "run" / "faults.json")
    data_dir = args.run_dir / "standins"
    data_dir.mkdir(parents=True, exist_ok=True)
    servers = [
        StandinServer(args.grafana_port, GrafanaHandler, faults, token=os.environ["ILSREF_GRAFANA_TOKEN"]),
        StandinServer(args.sentry_port, SentryHandler, faults, token=os.environ["ILSREF_SENTRY_TOKEN"],
                      release=args.release, dsn_key=os.environ["ILSREF_SENTRY_DSN_KEY"]),
        StandinServer(args.logs_port, LogStoreHandler, faults),
        StandinServer(args.webhook_port, WebhookHandler, faults, data_dir=data_dir),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    print(f"stand-ins listening on {[s.server_port for s in servers]}", flush=True)

    stop = stop_on_signals()
    stop.wait()
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
