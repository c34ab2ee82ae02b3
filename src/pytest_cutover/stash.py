"""Keys for state kept on config.stash and item.stash (never attributes set at run time)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_cutover.governance import Governance
from pytest_cutover.redact import Redactor
from pytest_cutover.settings import Settings
from pytest_cutover.verdict import CheckResult, Verdict

settings_key = pytest.StashKey[Settings]()
governance_key = pytest.StashKey[Governance]()
redactor_key = pytest.StashKey[Redactor]()
results_key = pytest.StashKey[dict[str, CheckResult]]()
verdict_key = pytest.StashKey[Verdict]()
started_key = pytest.StashKey[float]()
run_key = pytest.StashKey[dict[str, Any]]()  # run id and destructive opt-in, in every report
# nodeid -> evidence entries, gathered on the controller for the evidence bundle
evidence_store_key = pytest.StashKey[dict[str, list[dict[str, str]]]]()
# this run's folder under the ledger's history/runs/ (report/files.py), and the notify lines
archive_key = pytest.StashKey[Any]()
# the verdict document the report files were written from: the HTML shows the same one
document_key = pytest.StashKey[dict[str, Any]]()
notify_key = pytest.StashKey[list[str]]()
# the leak detector: this process's log (every process), the controller's totals
leak_log_key = pytest.StashKey[Any]()
leak_totals_key = pytest.StashKey[Any]()

# per test
measurements_key = pytest.StashKey[list[dict[str, Any]]]()
evidence_key = pytest.StashKey[list[dict[str, str]]]()
clients_key = pytest.StashKey[list[Any]]()
