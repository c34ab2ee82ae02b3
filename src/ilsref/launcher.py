"""`python -m ilsref up|down|status|faults|fault set|fault clear`: the deployment's command line."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ilsref import RELEASE, certs
from ilsref.faults import FaultState, all_faults, unknown
from ilsref.runtime import MissingBinary, RunDir, alive
from ilsref.services.base import Context

# The stand-ins start before monitoring: Alertmanager's webhook receiver is one of them.
# ILS's limiters (docs/ils-contract.md limit.api, limit.failed-login, limit.lockout); the general
# API limit of the reference is higher than ILS's, so a load rehearsal fits in it, and low enough
# that the rate-limit probe reaches its 429 within its request budget.
ILS_API = (100, 900)
ILS_FAILED_LOGIN = (5, 900)
ILS_LOCKOUT = (5, 900, 1800)  # failures, within seconds, lock the account for seconds
REFERENCE_API_LIMIT = (300, 10)

SERVICE_ORDER = ("postgres", "redis", "kubernetes", "app", "standins", "monitoring", "dns", "backups",
                 "governance", "rollbackfaults")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.handler(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ilsref",
                                     description="The ILS 2.0 reference deployment, with faults.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start every service on free loopback ports")
    up.add_argument("--faults", default="", help="comma-separated fault switches to start with")
    up.add_argument("--test-mode", action="store_true",
                    help="allow `fault set/clear` while running")
    up.add_argument("--release", default=RELEASE, help=f"release the app serves (default {RELEASE})")
    up.add_argument("--rate-limit", type=_rate, default=REFERENCE_API_LIMIT, metavar="N/S",
                    help="general /api limit per client IP: N requests per S seconds (default "
                         f"{REFERENCE_API_LIMIT[0]}/{REFERENCE_API_LIMIT[1]}; `ils` is ILS's own "
                         "100/900, which throttles a load rehearsal)")
    up.add_argument("--auth-rate-limit", type=_rate, default=ILS_FAILED_LOGIN, metavar="N/S",
                    help="failed-login limit per client IP on the sign-in paths, counting answers "
                         f"of status >= 400 (default ILS's {ILS_FAILED_LOGIN[0]}/{ILS_FAILED_LOGIN[1]})")
    up.add_argument("--window-scale", type=_scale, default=1.0, metavar="F",
                    help="multiply the failed-login window and the account lockout's window and "
                         "duration by F (0 < F <= 1; default 1: ILS's 900 s and 1800 s), so demos "
                         "and self-tests can wait a window out")
    up.add_argument("--only", default="", metavar="A,B",
                    help="start only these services (development; default: all)")
    up.set_defaults(handler=cmd_up)

    sub.add_parser("down", help="stop every recorded process").set_defaults(handler=cmd_down)
    sub.add_parser("status", help="recorded processes and URLs").set_defaults(handler=cmd_status)
    sub.add_parser("faults", help="list the fault switches").set_defaults(handler=cmd_faults)

    fault = sub.add_parser("fault", help="toggle faults at run time (test mode only)")
    fault_sub = fault.add_subparsers(required=True, metavar="ACTION")
    fault_set = fault_sub.add_parser("set", help="activate faults")
    fault_set.add_argument("names", nargs="+")
    fault_set.set_defaults(handler=cmd_fault_set)
    fault_clear = fault_sub.add_parser("clear", help="deactivate faults (all without names)")
    fault_clear.add_argument("names", nargs="*")
    fault_clear.set_defaults(handler=cmd_fault_clear)
    return parser


def _rate(text: str) -> tuple[int, int]:
    if text.strip().lower() == "ils":
        return ILS_API
    try:
        limit, window = (int(part) for part in text.split("/"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected N/SECONDS such as 100/10, got {text!r}") from exc
    if limit < 1 or window < 1:
        raise argparse.ArgumentTypeError("limit and window must be positive")
    return limit, window


def _scale(text: str) -> float:
    try:
        factor = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.02, got {text!r}") from exc
    if not 0 < factor <= 1:
        raise argparse.ArgumentTypeError("the window scale must be above 0 and at most 1")
    return factor


def _scaled(rule: tuple[int, int], factor: float) -> tuple[int, int]:
    return rule[0], max(1, round(rule[1] * factor))


# --- up ---------------------------------------------------------------------------------------

def cmd_up(args: argparse.Namespace) -> int:
    started_at = time.monotonic()
    run = RunDir.current()
    run.prepare()
    if _running(run):
        print(f"ilsref is already running in {run.path}; run `python -m ilsref down` first",
              file=sys.stderr)
        return 1
    run.stop_all(timeout=2)  # forget stale records of a deployment that died

    requested = [n.strip() for n in args.faults.split(",") if n.strip()]
    bad = unknown(requested)
    if bad:
        return _unknown_faults(bad)

    config_dir = run.path / "run"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "version.json").unlink(missing_ok=True)  # a stale one would mask the release
    _write_json(config_dir / "mode.json", {"test_mode": bool(args.test_mode)})
    state = FaultState(config_dir / "faults.json")
    state.write(set(requested))  # before the services: some faults only act at start

    ctx = Context(run=run, faults=state, release=args.release)
    ctx.facts["rate_limit"] = args.rate_limit
    ctx.facts["auth_rate_limit"] = _scaled(args.auth_rate_limit, args.window_scale)
    ctx.facts["lockout"] = (ILS_LOCKOUT[0], *(max(1, round(s * args.window_scale))
                                              for s in ILS_LOCKOUT[1:]))
    ctx.facts["test_mode"] = bool(args.test_mode)
    current = "certificates"
    try:
        ca_path, variants = certs.generate(config_dir)
        ctx.facts["ca_pem"] = str(ca_path)
        ctx.facts["cert_variants"] = variants
        only = {n.strip() for n in args.only.split(",") if n.strip()}
        for name in SERVICE_ORDER:
            if only and name not in only:
                continue
            current = name
            module = _service_module(name)
            if module is not None:
                module.start(ctx)
        current = "configuration"
        _write_outputs(ctx, config_dir)
    except (Exception, KeyboardInterrupt) as exc:
        _stop_everything(run)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = "" if isinstance(exc, MissingBinary) else f" (logs in {run.logs})"
        print(f"ilsref up failed while starting {current}: {message}{hint}", file=sys.stderr)
        return 1

    print(f"ilsref {args.release} is up" + (" in test mode" if args.test_mode else ""))
    for label, url in _urls(ctx.environment):
        print(f"  {label:<12} {url}")
    print(f"  {'run dir':<12} {run.path}")
    print(f"  {'config':<12} {config_dir / 'local.toml'}")
    if requested:
        print(f"  {'faults':<12} {', '.join(sorted(requested))}")
    print(f"ready in {time.monotonic() - started_at:.1f} s")
    return 0


def _service_module(name: str) -> ModuleType | None:
    """The service's module, or None while nobody has written it yet."""
    module_name = f"ilsref.services.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None


def _write_outputs(ctx: Context, config_dir: Path) -> None:
    (config_dir / "local.toml").write_text(to_toml(ctx.environment))
    secrets = "".join(f"{key}={value}\n" for key, value in sorted(ctx.secrets.items()))
    write_private(config_dir / "secrets.env", secrets)


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (created 0600, never world-readable meanwhile)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- down / status ----------------------------------------------------------------------------

def cmd_down(args: argparse.Namespace) -> int:
    run = RunDir.current()
    names = _stop_everything(run)
    print(f"stopped {', '.join(names)}" if names else "nothing was running")
    return 0


def _stop_everything(run: RunDir) -> list[str]:
    """Let services with their own shutdown (postgres) go first, then kill what is recorded."""
    recorded = list(run.processes())
    for name in reversed(SERVICE_ORDER):
        module = _service_module(name) if name in recorded else None
        stop = getattr(module, "stop", None)
        if stop is not None:
            try:
                stop(run)
            except Exception as exc:  # the generic kill below still runs
                print(f"stopping {name}: {exc}", file=sys.stderr)
    run.stop_all()
    return recorded


def _running(run: RunDir) -> bool:
    return any(alive(pid) for pid in run.processes().values())


def cmd_status(args: argparse.Namespace) -> int:
    run = RunDir.current()
    procs = run.processes()
    if not procs:
        print(f"ilsref is not running (run dir {run.path})")
        return 1
    for name, pid in procs.items():
        print(f"  {name:<18} pid {pid:<8} {'alive' if alive(pid) else 'DEAD'}")
    local = run.path / "run" / "local.toml"
    if local.exists():
        for label, url in _urls(tomllib.loads(local.read_text())):
            print(f"  {label:<12} {url}")
    active = FaultState(run.path / "run" / "faults.json").active()
    print(f"  {'faults':<12} {', '.join(sorted(active)) or 'none'}")
    return 0 if all(alive(pid) for pid in procs.values()) else 1


def _urls(environment: dict[str, Any]) -> list[tuple[str, str]]:
    """URL-valued keys of the environment (local.toml holds no secrets, so all are printable)."""
    found = []
    for key in ("base_url", "http_url"):
        if key in environment:
            found.append((key.replace("_", " "), str(environment[key])))
    for table, values in environment.items():
        if isinstance(values, dict):
            for key, value in values.items():
                if isinstance(value, str) and key.endswith("url") and "://" in value:
                    found.append((f"{table}", value))
    return found


# --- faults -----------------------------------------------------------------------------------

def cmd_faults(args: argparse.Namespace) -> int:
    faults = all_faults()
    width = max((len(n) for n in faults), default=0)
    family_width = max((len(f.family) for f in faults.values()), default=0)
    for fault in faults.values():
        note = " (takes effect at `up`)" if fault.restart else ""
        print(f"{fault.name:<{width}}  {fault.family:<{family_width}}  {fault.description}{note}")
    return 0


def cmd_fault_set(args: argparse.Namespace) -> int:
    return _change_faults(args.names, activate=True)


def cmd_fault_clear(args: argparse.Namespace) -> int:
    return _change_faults(args.names, activate=False)


def _change_faults(names: list[str], *, activate: bool) -> int:
    bad = unknown(names)
    if bad:
        return _unknown_faults(bad)
    run = RunDir.current()
    mode_file = run.path / "run" / "mode.json"
    if not _running(run):
        print("ilsref is not running; start it with `python -m ilsref up --test-mode`",
              file=sys.stderr)
        return 1
    if not mode_file.exists() or not json.loads(mode_file.read_text()).get("test_mode"):
        print("faults can be toggled only in test mode: `python -m ilsref down` then "
              "`python -m ilsref up --test-mode`", file=sys.stderr)
        return 1
    state = FaultState(run.path / "run" / "faults.json")
    active = set(state.active())
    if activate:
        active |= set(names)
    else:
        active = active - set(names) if names else set()
    state.write(active)
    known = all_faults()
    later = [n for n in names if activate and known[n].restart]
    if later:
        print(f"note: {', '.join(later)} take effect only at `up --faults`", file=sys.stderr)
    print(f"active faults: {', '.join(sorted(active)) or 'none'}")
    return 0


def _unknown_faults(bad: list[str]) -> int:
    print(f"unknown fault(s): {', '.join(bad)}; valid: {', '.join(all_faults())}", file=sys.stderr)
    return 2


# --- TOML -------------------------------------------------------------------------------------

def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for the shapes local.toml needs (str/int/float/bool, lists, tables)."""
    lines: list[str] = []
    _toml_table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines.append("")
        lines.append(f"[{'.'.join(_toml_key(p) for p in path)}]")
    for key, value in scalars.items():
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables.items():
        _toml_table(value, [*path, key], lines)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Path):
        return json.dumps(str(value))
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
