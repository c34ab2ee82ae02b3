"""Smoke: the deployed version is the release this cutover ships (`release`).

The version source is configurable: an endpoint and a JSON field (`version.source = "endpoint"`),
or the image tag of the Kubernetes Deployment (`version.source = "image_tag"`); both are read by
`pytest_cutover.clients.version`, which the readiness release checks use too.
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.version import VersionUnavailable, served_version
from pytest_cutover.fixtures import kube_for

pytestmark = pytest.mark.checklist("verify.deployment-verification")


def test_deployed_version_is_the_release(http, target, require, evidence):
    if not target.release:
        unverified(f"no release is set for environment {target.name!r}: set "
                   f"[environments.{target.name}] release = \"x.y.z\"")
    version = require("version")
    source = version.get("source", "endpoint")
    if source == "endpoint" and not (version.get("path") and version.get("field")):
        unverified("version.source is 'endpoint' but version.path or version.field is missing")
    if source not in ("endpoint", "image_tag"):
        unverified(f"unknown version.source {source!r} (use 'endpoint' or 'image_tag')")
    unreadable: tuple[type[Exception], ...] = (VersionUnavailable,)
    kube = None
    if source == "image_tag":  # only this source needs the Kubernetes client (imported lazily)
        from pytest_cutover.clients.k8s import KubeUnavailable

        kube, unreadable = kube_for(target), (VersionUnavailable, KubeUnavailable)
    try:
        served, where = served_version(http, target, kube)
    except unreadable as exc:
        pytest.fail(f"the deployed version could not be read: {exc}", pytrace=False)
    evidence("deployed version", {"served": served, "expected": target.release, "from": where},
             "json")
    assert served.removeprefix("v") == target.release.removeprefix("v"), (
        f"{where} is {served!r} (expected release {target.release!r})")
