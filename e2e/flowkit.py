"""A browser flow's harness: named steps, what the browser reported, screenshots, the trace.

The flow listens to its page: console errors, uncaught JavaScript errors and 5xx answers are
problems that fail the flow even when every step passed. Evidence: a screenshot at the end of
the flow, or at the failing step; on failure, the Playwright trace and the problems seen.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Locator, Page, Response, expect

from pytest_cutover.e2e_profile import E2eProfile

A_FIGURE = re.compile(r"\d")
SETTLE_MS = 3000  # at most this long for late requests (and their errors) at the end of a flow


class Flow:
    def __init__(self, page: Page, profile: E2eProfile, evidence: Callable[..., None]) -> None:
        self.page, self.profile, self.evidence = page, profile, evidence
        self.current_step = "open the browser"
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        page.on("response", self._response)

    # --- what the browser reports ---------------------------------------------------------
    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not self.profile.ignored(message.text):
            self.problems.append(f"console error on {self._path()}: {message.text[:300]}")

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught JavaScript error on {self._path()}: "
                             f"{error.name}: {error.message[:300]}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.request.method} {_path_of(response.url)} answered "
                                 f"{response.status}")

    def _path(self) -> str:
        return _path_of(self.page.url)

    # --- steps -----------------------------------------------------------------------------
    def step(self, name: str) -> None:
        """Name what the flow does next; a failure is reported (and photographed) as this step."""
        self.current_step = name

    def open(self, route: str) -> tuple[Response | None, float]:
        """Open a route of the profile; returns the answer and the load time in ms."""
        path = self.profile.routes[route]
        self.step(f"open {path}")
        started = time.perf_counter()
        response = self.page.goto(path, wait_until="load")
        return response, (time.perf_counter() - started) * 1000

    def settle(self) -> None:
        """Give requests still in flight a bounded chance to finish (and report their errors)."""
        with contextlib.suppress(Error):  # still busy after SETTLE_MS: the flow goes on
            self.page.wait_for_load_state("networkidle", timeout=SETTLE_MS)

    def problem_summary(self) -> str:
        shown = "; ".join(self.problems[:5])
        more = f"; and {len(self.problems) - 5} more" if len(self.problems) > 5 else ""
        return (f"{len(self.problems)} browser problem(s) during the flow (expected none): "
                f"{shown}{more}")

    # --- evidence --------------------------------------------------------------------------
    def screenshot(self, title: str) -> None:
        try:
            png = self.page.screenshot(full_page=True, timeout=5000)
        except Error as exc:
            self.evidence(f"{title} (no screenshot)", f"the screenshot failed: {exc}")
            return
        self.evidence(title, base64.b64encode(png).decode(), "png")

    def passed(self) -> None:
        self.screenshot(f"end of flow: {self.current_step} ({self._path()})")

    def failed(self, trace: Callable[[], str | None]) -> None:
        self.screenshot(f"failing step: {self.current_step} ({self._path()})")
        if self.problems:
            self.evidence("browser problems", "\n".join(self.problems))
        where = trace()
        if where:
            self.evidence("Playwright trace", where)


class Tracing:
    """Our own trace of the flow, kept only on failure; pytest-playwright's when --tracing is on."""

    def __init__(self, context: Any, folder: Path, name: str, owned: bool) -> None:
        self.context, self.owned, self.active = context, owned, False
        self.path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')[:120]}.zip"
        if owned:
            context.tracing.start(screenshots=True, snapshots=True)
            self.active = True

    def keep(self) -> str | None:
        if not self.owned:
            return ("kept by pytest-playwright (--tracing): trace.zip in this test's folder "
                    "under --output (default test-results/)")
        if not self.active:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.context.tracing.stop(path=str(self.path))
        self.active = False
        return f"{self.path.resolve()} (open it with: playwright show-trace {self.path.resolve()})"

    def discard(self) -> None:
        if self.active:
            self.context.tracing.stop()
            self.active = False


def expect_figure(widget: Locator, where: str) -> None:
    """The widget shows a figure (a digit) within the expectation timeout."""
    try:
        expect(widget).to_have_text(A_FIGURE)
    except AssertionError:
        shown = " | ".join(widget.all_inner_texts()) if widget.count() else "nothing (not on the page)"
        pytest.fail(f"{where} shows {shown!r} (expected a figure)", pytrace=False)


def _path_of(url: str) -> str:
    return re.sub(r"^[a-z]+://[^/]+", "", url) or "/"
