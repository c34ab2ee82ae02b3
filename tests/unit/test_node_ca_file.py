"""NODE_EXTRA_CA_CERTS for the browser's driver (root conftest.py): the target's bundle as it is,
or, when another file is already named, a file of the run holding both, removed at its end."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("cutover_root_conftest", ROOT / "conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _node_ca_file():
    return _root_conftest()._node_ca_file


def test_the_bundle_is_used_as_it_is_when_nothing_else_is_named(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NODE_EXTRA_CA_CERTS", raising=False)
    bundle = tmp_path / "ca.pem"
    bundle.write_text("TARGET CA\n")
    assert _node_ca_file()(str(bundle)) == str(bundle)


def test_a_file_already_named_is_kept_alongside_the_bundle_until_the_run_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corporate, bundle = tmp_path / "corp.pem", tmp_path / "ca.pem"
    corporate.write_text("CORPORATE CA\n")
    bundle.write_text("TARGET CA\n")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(corporate))
    conftest = _root_conftest()
    merged = Path(conftest._node_ca_file(str(bundle)))
    assert "CORPORATE CA" in merged.read_text() and "TARGET CA" in merged.read_text()
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(merged))  # as pytest_configure sets it
    assert conftest._node_ca_file(str(bundle)) == str(merged)  # a worker: holds the bundle already
    conftest.pytest_unconfigure(None)
    assert not merged.exists()  # nothing left behind in the temporary folder
    assert os.environ["NODE_EXTRA_CA_CERTS"] == str(corporate)
