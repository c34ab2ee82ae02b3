"""The emulator's pure parts: selectors, patches, template comparison, the fault view."""

from __future__ import annotations

import pytest

from ilsref.k8s import seed
from ilsref.k8s.controller import image_tag, template_identity
from ilsref.k8s.faultview import FaultView
from ilsref.k8s.patching import PatchError, json_patch, merge_patch, strategic_merge_patch
from ilsref.k8s.selectors import SelectorError, field_selector, label_selector, matches_labels, split_terms
from ilsref.k8s.store import Store


def _labelled(**labels: str) -> dict:
    return {"metadata": {"name": "x", "labels": labels}}


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=ils-app", True),
    ("app==ils-app,tier!=db", True),
    ("app!=ils-app", False),
    ("app in (redis, ils-app)", True),
    ("app notin (ils-app)", False),
    ("tier", False),
    ("!tier", True),
    ("app in (a,b),!tier", False),
    ("", True),
])
def test_label_selector(selector: str, expected: bool) -> None:
    assert label_selector(selector)(_labelled(app="ils-app")) is expected


def test_split_terms_keeps_commas_inside_sets() -> None:
    assert split_terms("a in (x,y),b=c") == ["a in (x,y)", "b=c"]


def test_bad_selectors_are_rejected() -> None:
    with pytest.raises(SelectorError):
        label_selector("a in x")
    with pytest.raises(SelectorError):
        field_selector("metadata.name")


def test_field_selector_reads_dotted_paths() -> None:
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Running"}}
    assert field_selector("metadata.name=p,status.phase!=Pending")(pod)
    assert not field_selector("metadata.name=q")(pod)


def test_structured_label_selector_with_expressions() -> None:
    selector = {"matchLabels": {"app": "a"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}
    assert matches_labels(selector, {"app": "a", "tier": "web"})
    assert not matches_labels(selector, {"app": "a"})
    assert not matches_labels({}, {"app": "a"})  # an empty selector selects nothing


def test_json_patch_operations() -> None:
    doc = {"a": {"b": [1, 2]}, "c": 1}
    patched = json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 3},
                               {"op": "replace", "path": "/c", "value": 2},
                               {"op": "remove", "path": "/a/b/0"},
                               {"op": "add", "path": "/d~1e", "value": True}])
    assert patched == {"a": {"b": [2, 3]}, "c": 2, "d/e": True}
    assert doc == {"a": {"b": [1, 2]}, "c": 1}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/missing", "value": 1}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/c", "value": 9}])


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    assert merge_patch({"a": [1], "b": 1, "c": {"d": 1}}, {"a": [2], "b": None, "c": {"e": 2}}) == {
        "a": [2], "c": {"d": 1, "e": 2}}


def test_strategic_merge_patch_merges_named_list_items() -> None:
    doc = {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]},
                          {"name": "side", "image": "s:1"}]}
    patched = strategic_merge_patch(doc, {"containers": [{"name": "app", "image": "a:2"}],
                                          "$setElementOrder/containers": [{"name": "app"}]})
    assert patched["containers"][0] == {"name": "app", "image": "a:2", "ports": [{"containerPort": 80}]}
    assert patched["containers"][1]["name"] == "side" and "$setElementOrder/containers" not in patched
    removed = strategic_merge_patch(doc, {"containers": [{"name": "side", "$patch": "delete"}]})
    assert [c["name"] for c in removed["containers"]] == ["app"]


def test_templates_compare_without_nulls_empties_and_hash_label() -> None:
    plain = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a", "image": "i:1"}]}}
    noisy = {"metadata": {"labels": {"app": "a", "pod-template-hash": "abc"}, "annotations": {}},
             "spec": {"containers": [{"name": "a", "image": "i:1", "env": [], "args": None}], "volumes": []}}
    assert template_identity(plain) == template_identity(noisy)
    assert template_identity(plain) != template_identity(
        {**plain, "spec": {"containers": [{"name": "a", "image": "i:2"}]}})


@pytest.mark.parametrize(("image", "tag"), [
    ("ghcr.io/ils/ils-app:2.0.0", "2.0.0"), ("localhost:5000/app", "latest"), ("redis:7@sha256:ab", "7")])
def test_image_tag(image: str, tag: str) -> None:
    assert image_tag(image) == tag


def test_fault_view_changes_copies_and_hides_objects() -> None:
    view = FaultView(Store())
    deployment = seed.app_deployment("ns", "2.0.0")
    deployment["metadata"]["uid"] = "u"
    shown = view.show("Deployment", deployment,
                      frozenset({"k8s_latest_tag", "k8s_same_probes", "k8s_no_limits"}))
    assert shown is not None
    container = shown["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":latest") and "limits" not in container["resources"]
    assert container["livenessProbe"] == container["readinessProbe"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")
    assert view.show("HorizontalPodAutoscaler", seed.hpa("ns"), frozenset({"k8s_no_hpa"})) is None
    ingress = view.show("Ingress", seed.ingress("ns", "h"), frozenset({"k8s_ingress_no_tls"}))
    assert ingress is not None and "tls" not in ingress["spec"]
