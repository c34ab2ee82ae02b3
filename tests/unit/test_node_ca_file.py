"""NODE_EXTRA_CA_CERTS for the browser's driver (root conftest.py): the target's bundle as it is,
or one file holding both when another file is already named; never a new file per run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _node_ca_file():
    spec = importlib.util.spec_from_file_location("cutover_root_conftest", ROOT / "conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._node_ca_file


def test_the_bundle_is_used_as_it_is_when_nothing_else_is_named(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NODE_EXTRA_CA_CERTS", raising=False)
    bundle = tmp_path / "ca.pem"
    bundle.write_text("TARGET CA\n")
    assert _node_ca_file()(str(bundle)) == str(bundle)


def test_a_file_already_named_is_kept_alongside_the_bundle(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    corporate, bundle = tmp_path / "corp.pem", tmp_path / "ca.pem"
    corporate.write_text("CORPORATE CA\n")
    bundle.write_text("TARGET CA\n")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(corporate))
    merged = Path(_node_ca_file()(str(bundle)))
    assert "CORPORATE CA" in merged.read_text() and "TARGET CA" in merged.read_text()
    assert _node_ca_file()(str(bundle)) == str(merged)  # the same content: the same file
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(merged))
    assert _node_ca_file()(str(bundle)) == str(merged)  # already holds the bundle: no new file
