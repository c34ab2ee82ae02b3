"""Suite-wide set-up for the check folders (readiness/ smoke/ e2e/ load/ rollback/).

The plugin itself (options, markers, verdict, reports) comes from the `pytest_cutover` package
through its pytest11 entry point; this file only holds what is specific to running the suite
from this repository.

Browser (pytest-playwright's fixture ladder, overridden at its documented points):
- Debian's Chromium (`/usr/lib/chromium/chromium`, or $CUTOVER_CHROMIUM): `playwright install`
  cannot run on these machines. --headed, --slowmo, --tracing, --screenshot and --video still work.
- base URL = `--base-url` if given, else the target's; service workers blocked (ILS registers one).
- TLS: the browser trusts the target's leaf certificate once Python has verified it against the
  environment's `ca_bundle` (see pytest_cutover.clients.browser_trust). Only with
  `e2e.trust_ca_bundle = false` does it ignore certificate errors instead; the smoke TLS checks
  judge the certificate either way. Playwright's API requests (`page.request`) run in its Node
  driver, which reads the same bundle from NODE_EXTRA_CA_CERTS (set here before it starts).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover.e2e_profile import E2eProfile, resolve
from pytest_cutover.settings import Environment
from pytest_cutover.stash import settings_key

CHROMIUM = "/usr/lib/chromium/chromium"  # the ELF; /usr/bin/chromium is a shell wrapper
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.hookimpl(trylast=True)  # after the plugin has loaded the settings
def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash.get(settings_key, None)
    if settings is None or not settings.environment.ca_bundle:
        return
    profile, _ = resolve(settings.environment.data.get("e2e", {}))
    if profile.trust_ca_bundle:
        os.environ["NODE_EXTRA_CA_CERTS"] = _node_ca_file(settings.environment.ca_bundle)


def _node_ca_file(ca_bundle: str) -> str:
    """Node reads one extra CA file: the target's bundle itself, or, when a file is already named
    there (some machines name the system store), a file of this run holding both, removed when
    the run ends (xdist workers inherit its name and read it; they create none of their own)."""
    named = os.environ.get("NODE_EXTRA_CA_CERTS")
    if not named or not Path(named).is_file():
        return ca_bundle
    extra, bundle = Path(named).read_text(), Path(ca_bundle).read_text()
    if bundle in extra:
        return named
    handle, path = tempfile.mkstemp(prefix="cutover-node-ca-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        out.write(extra + "\n" + bundle)
    _RUN_FILES.append((Path(path), named))
    return path


_RUN_FILES: list[tuple[Path, str]] = []  # merged files this process made, each with what it replaced


def pytest_unconfigure(config: pytest.Config) -> None:
    while _RUN_FILES:
        path, replaced = _RUN_FILES.pop()
        path.unlink(missing_ok=True)
        if os.environ.get("NODE_EXTRA_CA_CERTS") == str(path):  # not left naming a removed file
            os.environ["NODE_EXTRA_CA_CERTS"] = replaced


@pytest.fixture(scope="session")
def e2e_profile(target: Environment) -> E2eProfile:
    """The target's UI routes, selectors, texts and flow settings (ILS defaults + `e2e` table)."""
    profile, problems = resolve(target.data.get("e2e", {}))
    if problems:
        raise pytest.UsageError("cutover configuration: " + "; ".join(problems))
    return profile


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config, target: Environment) -> str:
    """pytest-base-url's fixture: `--base-url` when given, else the target's base URL."""
    return str(pytestconfig.getoption("base_url", None) or target.base_url)


@pytest.fixture(scope="session")
def browser_tls_pin(target: Environment, e2e_profile: E2eProfile, base_url: str) -> str | None:
    """SPKI pin of the target's leaf, verified with the CA bundle (None: system trust decides)."""
    if not (target.ca_bundle and e2e_profile.trust_ca_bundle and base_url.startswith("https:")):
        return None
    # imported here: cryptography costs ~30 ms of start-up to every run, the browser's only
    from pytest_cutover.clients.browser_trust import pin_verified_leaf

    pin = pin_verified_leaf(base_url, target.ca_bundle, timeout_s=target.timeout_s)
    if pin.error:  # Chromium will refuse the site, and the flows will say so
        print(f"cutover: the browser will not trust {base_url}: {pin.error}")
    return pin.spki_sha256


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any],
                             browser_tls_pin: str | None) -> dict[str, Any]:
    executable = os.environ.get("CUTOVER_CHROMIUM", CHROMIUM)
    if not Path(executable).is_file():
        pytest.fail(f"no Chromium at {executable!r}: install it with `apt-get install -y chromium` "
                    f"(or run scripts/setup), or point $CUTOVER_CHROMIUM at a Chromium binary",
                    pytrace=False)
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    if browser_tls_pin:
        args.append(f"--ignore-certificate-errors-spki-list={browser_tls_pin}")
    return {**browser_type_launch_args, "executable_path": executable, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], base_url: str,
                         e2e_profile: E2eProfile) -> dict[str, Any]:
    return {**browser_context_args, "base_url": base_url, "service_workers": "block",
            "ignore_https_errors": not e2e_profile.trust_ca_bundle}
