"""Smoke: the deployed version is the release this cutover ships (`release`).

The version source is configurable: an endpoint and a JSON field (`version.source = "endpoint"`),
or the image tag of the Kubernetes Deployment (`version.source = "image_tag"`).
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified

pytestmark = pytest.mark.checklist("verify.deployment-verification")


def _dig(body, dotted):
    for key in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _version_from_endpoint(http, version):
    path, field = version.get("path"), version.get("field")
    if not path or not field:
        unverified("version.source is 'endpoint' but version.path or version.field is missing")
    result = http.get(path)
    assert result.status == 200, f"{result.describe()} (expected 200 with field {field!r})"
    served = _dig(result.json(), field)
    assert served is not None, f"GET {path} has no field {field!r}; {result.describe()}"
    return str(served), f"GET {path} field {field!r}"


def _version_from_image_tag(require):
    k8s = require("kubernetes")
    import kubernetes  # lazily: only this source needs it
    import urllib3

    try:
        client = kubernetes.config.new_client_from_config(config_file=k8s.get("kubeconfig"),
                                                          context=k8s.get("context"))
    except (kubernetes.config.ConfigException, OSError) as exc:
        unverified(f"cannot read the Deployment's image tag: no usable kubeconfig ({exc})")
    namespace, name = k8s.get("namespace", "default"), k8s.get("deployment", "ils-app")
    try:
        deployment = kubernetes.client.AppsV1Api(client).read_namespaced_deployment(
            name, namespace, _request_timeout=5)
    except kubernetes.client.ApiException as exc:
        pytest.fail(f"reading deployment {namespace}/{name} answered {exc.status} {exc.reason}",
                    pytrace=False)
    except urllib3.exceptions.HTTPError as exc:
        pytest.fail(f"reading deployment {namespace}/{name} failed: {exc}", pytrace=False)
    finally:
        client.close()
    containers = deployment.spec.template.spec.containers
    wanted = k8s.get("container")
    container = next((c for c in containers if c.name == wanted), containers[0])
    image = container.image.split("@", 1)[0]
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    return tag, f"image {container.image!r} of deployment {namespace}/{name}"


def test_deployed_version_is_the_release(http, target, require, evidence):
    if not target.release:
        unverified(f"no release is set for environment {target.name!r}: set "
                   f"[environments.{target.name}] release = \"x.y.z\"")
    version = require("version")
    source = version.get("source", "endpoint")
    if source == "endpoint":
        served, where = _version_from_endpoint(http, version)
    elif source == "image_tag":
        served, where = _version_from_image_tag(require)
    else:
        unverified(f"unknown version.source {source!r} (use 'endpoint' or 'image_tag')")
    evidence("deployed version", {"served": served, "expected": target.release, "from": where},
             "json")
    assert served.removeprefix("v") == target.release.removeprefix("v"), (
        f"{where} is {served!r} (expected release {target.release!r})")
