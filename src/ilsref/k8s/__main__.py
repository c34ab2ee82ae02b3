"""`python -m ilsref.k8s --port P --run-dir DIR [--namespace N] [--release R] [--host H]`

Serves the Kubernetes API on 127.0.0.1:P with the ILS objects loaded. Reads fault switches from
DIR/run/faults.json and writes the version `ils-app` runs to DIR/run/version.json.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import ilsref
from ilsref.faults import FaultState
from ilsref.k8s import seed
from ilsref.k8s.api import Api
from ilsref.k8s.controller import DeploymentController
from ilsref.k8s.faultview import FaultView
from ilsref.k8s.server import make_server
from ilsref.k8s.store import Store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ilsref.k8s", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--namespace", default="ils-local")
    parser.add_argument("--release", default=ilsref.RELEASE)
    parser.add_argument("--previous-release", default=ilsref.PREVIOUS_RELEASE)
    parser.add_argument("--host", default="localhost", help="the Ingress host")
    parser.add_argument("--progress-deadline", type=float, default=5.0,
                        help="seconds before a stuck rollout reports ProgressDeadlineExceeded")
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> Api:
    run_config = args.run_dir / "run"
    fault_state = FaultState(run_config / "faults.json")
    store = Store()
    controller = DeploymentController(
        store, fault_state.active, version_file=run_config / "version.json", app_name=seed.APP,
        previous_release=args.previous_release, progress_deadline=args.progress_deadline)
    seed.load(store, controller, namespace=args.namespace, release=args.release,
              previous_release=args.previous_release, host=args.host)
    return Api(store, controller, FaultView(store, seed.APP), fault_state.active)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    api = build(args)
    server = make_server(api, args.port)
    stop = threading.Event()
    threading.Thread(target=api.watch_faults, args=(stop,), daemon=True, name="faults").start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"kubernetes API emulator on http://127.0.0.1:{args.port} (namespace {args.namespace})",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
