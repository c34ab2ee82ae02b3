"""A browser flow's harness: named steps, what the browser reported, screenshots, the trace.

The flow listens to its page: console errors, uncaught JavaScript errors, failed requests and 5xx
answers from the app's own origins (its base URL, its API) are problems that fail the flow even
when every step passed; the same from third-party origins (web fonts, analytics) are warnings,
unless `e2e.strict_third_party` is set. A failing flow is reported with its step and the selector
or text it waited for (`describe_failure`), an ambiguous selector as a strict-mode violation.
Evidence: a screenshot at the end of the flow, or at the failing step; on failure, the
Playwright trace and the problems seen.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Locator, Page, Request, Response, Route, expect

from pytest_cutover.e2e_profile import E2eProfile

A_FIGURE = re.compile(r"\d")
SETTLE_MS = 3000  # at most this long for late requests (and their errors) at the end of a flow


STRICT_MODE = re.compile(r"strict mode violation: (?P<locator>.+?) resolved to (?P<n>\d+) elements")
WAITING_FOR = re.compile(r"waiting for (?P<what>(?:locator|get_by_\w+)\(.*)$", re.MULTILINE)


def origin_of(url: str) -> str:
    found = re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]+", url, re.IGNORECASE)
    return found.group(0).lower() if found else ""


def describe_failure(step: str, exc: BaseException) -> str:
    """One line naming the flow's step, what it waited for, and what went wrong (Playwright's
    own message keeps the selector only in its call log, below the first line)."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0].strip()
    strict = STRICT_MODE.search(text)
    if strict:
        return (f"step {step!r}: ambiguous selector (strict-mode violation): {strict['locator']} "
                f"matched {strict['n']} elements (expected one); {first}")
    waiting = WAITING_FOR.search(text)
    what = waiting["what"].strip() if waiting else ""
    shown = f"; it waited for {what}" if what and what not in first else ""
    return f"step {step!r} failed: {first}{shown}"


@dataclass
class Answer:
    """An API answer the page received during a step, read before the page could move on."""

    method: str
    path: str
    status: int | None = None
    body: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Flow:
    def __init__(self, page: Page, profile: E2eProfile, evidence: Callable[..., None],
                 own_origins: frozenset[str] = frozenset()) -> None:
        self.page, self.profile, self.evidence = page, profile, evidence
        self.own_origins = own_origins  # the app's origins (base URL, API); others are third party
        self.current_step = "open the browser"
        self.problems: list[str] = []
        self.warnings: list[str] = []  # third-party problems: listed, not counted
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        page.on("response", self._response)
        page.on("requestfailed", self._request_failed)

    # --- what the browser reports ---------------------------------------------------------
    def _own(self, url: str) -> bool:
        """Whether `url` is the app's (no URL, e.g. an inline script, counts as the app's)."""
        return not url or not self.own_origins or origin_of(url) in self.own_origins

    def _note(self, url: str, problem: str) -> None:
        if self._own(url) or self.profile.strict_third_party:
            self.problems.append(problem)
        else:
            self.warnings.append(f"third-party {origin_of(url)}: {problem}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not self.profile.ignored(message.text):
            source = str((message.location or {}).get("url", ""))
            self._note(source, f"console error on {self._path()}: {message.text[:300]}")

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught JavaScript error on {self._path()}: "
                             f"{error.name}: {error.message[:300]}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self._note(response.url, f"{response.request.method} {path_of(response.url)} answered "
                                     f"{response.status}")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or "failed"
        if "ERR_ABORTED" in failure:  # the page moved on: not an error of the app
            return
        self._note(request.url, f"{request.method} {request.url[:200]} failed: {failure}")

    def _path(self) -> str:
        return path_of(self.page.url)

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

    @contextlib.contextmanager
    def answer_to(self, method: str, path: str) -> Iterator[Answer]:
        """The page's own `method path` request during the block, passed through and read on the
        way (a page that navigates right after an answer discards its body); waits for it after
        the block, at most the action timeout."""
        answer = Answer(method, path)
        pattern = re.compile(r"^[a-z]+://[^/]+" + re.escape(path) + r"(\?.*)?$")
        handled: list[bool] = []  # set once the answer went on to the page: only then unroute

        def handle(route: Route) -> None:
            if route.request.method != method or handled or answer.status is not None:
                route.fallback()
                return
            try:
                response = route.fetch()
                with contextlib.suppress(Error, ValueError):
                    answer.body = response.json()
                route.fulfill(response=response)
                answer.status = response.status
            finally:
                handled.append(True)

        self.page.route(pattern, handle)
        try:
            yield answer
            deadline = time.monotonic() + self.profile.action_timeout_ms / 1000
            while not handled and time.monotonic() < deadline:
                self.page.wait_for_timeout(50)
        finally:
            self.page.unroute(pattern, handle)
        if answer.status is None:
            what = ("got no answer" if handled else
                    f"was not sent within {self.profile.action_timeout_ms} ms")
            pytest.fail(f"step {self.current_step!r}: the page's {method} {path} {what}",
                        pytrace=False)

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

    def report_warnings(self) -> None:
        if self.warnings:
            self.evidence("third-party browser problems (warnings, not counted)",
                          "\n".join(self.warnings[:50]))

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


def path_of(url: str) -> str:
    return re.sub(r"^[a-z]+://[^/]+", "", url) or "/"
