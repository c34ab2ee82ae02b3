"""Every check that changes the target is marked `destructive` (read from the source, issue 13).

A write is an HTTP POST/PUT/PATCH/DELETE other than a login or logout, or a test alert posted to
Alertmanager. This test finds every such call in the check folders and fails unless the function
is a destructive test (its own marker or the module's `pytestmark`) or is listed below with the
reason it changes nothing. tests/checks/test_production_safety.py counts the writes at the app and
the alerts at Alertmanager on a real run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("readiness", "smoke", "e2e", "load", "rollback")
WRITE_METHODS = {"post", "put", "patch", "delete"}

# file::function -> why its write call changes nothing on the target (or runs only destructively)
NOT_A_CHANGE = {
    "smoke/test_authentication.py::test_login_without_body_is_rejected": "POSTs to the login path",
    "e2e/conftest.py::_sign_in": "POSTs to the login route (routes.api_login)",
    "e2e/conftest.py::sign_in": "the fixture around _sign_in",
    "smoke/test_endpoints.py::_call": "endpoints.*.method is GET, HEAD or OPTIONS (schema.py)",
    "smoke/test_api_contract.py::test_wrong_method_on_health_is_refused":
        "DELETE on the read-only health endpoint, which must refuse it (404/405)",
    "load/locustfile.py::order": "runs only inside the load gate, which is destructive",
}


def _marked_destructive(decorators: list[ast.expr], source: str) -> bool:
    return any("destructive" in (ast.get_source_segment(source, d) or "") for d in decorators)


def _writes(source: str) -> list[tuple[str, int, str]]:
    """(function, line, call) of every write call whose target is not a login/logout path."""
    found = []
    tree = ast.parse(source)
    module_destructive = any(
        isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
        and "destructive" in (ast.get_source_segment(source, node.value) or "") for node in tree.body)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if module_destructive or _marked_destructive(fn.decorator_list, source):
            continue
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            first = ast.get_source_segment(source, node.args[0]) if node.args else ""
            first = first or ""
            if name == "request" and node.args:
                method = node.args[0]
                if isinstance(method, ast.Constant) and str(method.value).lower() not in WRITE_METHODS:
                    continue  # OPTIONS, GET, HEAD
                first = ast.get_source_segment(source, node.args[1]) if len(node.args) > 1 else ""
                first = first or ""
            elif name not in WRITE_METHODS | {"post_alert"}:
                continue
            if name != "post_alert" and ("login" in first or "logout" in first):
                continue
            found.append((fn.name, node.lineno, f"{name}({first})"))
    return found


def test_every_write_is_in_a_destructive_check_or_explained() -> None:
    unexplained = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for function, line, call in _writes(path.read_text()):
                if f"{rel}::{function}" not in NOT_A_CHANGE:
                    unexplained.append(f"{rel}:{line} {function}: {call}")
    assert not unexplained, (
        "checks that write to the target without @pytest.mark.destructive:\n  " + "\n  ".join(unexplained))


def test_the_scan_finds_an_unmarked_write_and_an_unmarked_alert() -> None:
    source = (
        "import pytest\n\n"
        "def test_creates_a_patient(http):\n    http.post('/api/patients', json={})\n\n"
        "def test_alert(client):\n    prom.post_alert(client, {}, {}, 'a', 'b')\n\n"
        "def test_login(http, target):\n    http.post(target.profile['login_path'])\n\n"
        "def test_put(http):\n    http.request('PUT', '/api/orders/1')\n\n"
        "@pytest.mark.destructive\ndef test_marked(http):\n    http.delete('/api/orders/1')\n")
    assert [(f, c) for f, _, c in _writes(source)] == [
        ("test_creates_a_patient", "post('/api/patients')"), ("test_alert", "post_alert(client)"),
        ("test_put", "request('/api/orders/1')")]


def test_the_post_launch_test_alert_is_destructive() -> None:
    source = (ROOT / "load" / "test_post_launch.py").read_text()
    tree = ast.parse(source)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
              and n.name == "test_alertmanager_accepts_and_lists_a_test_alert")
    assert _marked_destructive(fn.decorator_list, source)
