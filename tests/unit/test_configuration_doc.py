"""docs/configuration.md is generated from the schema and kept in sync (scripts/config-doc)."""

from __future__ import annotations

from pathlib import Path

from pytest_cutover import schema, schema_doc

ROOT = Path(__file__).resolve().parents[2]


def _keys(spec: object, found: set[str]) -> set[str]:
    if isinstance(spec, schema.MapOf):
        return _keys(spec.spec, found)
    if isinstance(spec, dict):
        for key, leaf in spec.items():
            found.add(key)
            _keys(leaf, found)
    return found


def test_configuration_doc_is_in_sync_with_the_schema() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == schema_doc.render(), (
        "docs/configuration.md is out of date: run scripts/config-doc")


def test_every_key_component_and_threshold_name_is_documented() -> None:
    text = schema_doc.render()
    missing = sorted(k for k in _keys(schema.TOP_LEVEL["cutover"], _keys(schema.ENVIRONMENT, set()))
                     if f"`{k}`" not in text)
    assert missing == []
    assert all(f"`{n}`" in text for n in schema.not_applicable_names())
    assert all(f"`{n}`" in text for n in schema.threshold_names())


def test_every_documented_key_has_a_meaning() -> None:
    rows = [ln for ln in schema_doc.render().splitlines() if ln.startswith("| `")]
    assert [r for r in rows if r.endswith("| — |")] == []


def test_readme_links_the_configuration_reference() -> None:
    assert "docs/configuration.md" in (ROOT / "README.md").read_text(encoding="utf-8")
