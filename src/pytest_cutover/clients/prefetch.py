"""Send independent reads ahead, a few at a time, and hand each answer to exactly one check.

The smoke checks wait on the network one after another; most of them ask for a page whose answer
does not depend on any other check. A `Prefetch` sends those requests in a bounded batch (at most
`max_in_flight` at once, each through an ordinary `HttpClient`, so its timeout, retry rule and any
pacing apply) while the checks run, and a check that asks the same thing takes one of the answers
instead of sending its own:

- each answer serves one request only: two checks asking the same thing get two answers, as if
  each had sent its own (what each check claims rests on its own response);
- only an answer the target gave is served; a request that failed (timeout, refused) is left to
  the check, which then sends its own;
- the answer carries `sent_ahead`, so the check's transcript says it was sent before the check.

Latency readings never take a prefetched answer (`HttpClient.timed` sends its own): requests in
flight together may wait on each other, and a latency budget is judged on a request alone.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pytest_cutover.clients.http import HttpClient, HttpResult

DEFAULT_MAX_IN_FLIGHT = 6
WAIT_MARGIN_S = 1.0  # beyond the client's own timeout; a stuck prefetch never holds a check longer


# what may be sent ahead: methods that change nothing (a CORS preflight is an OPTIONS), no body
SAFE_METHODS = frozenset({"GET", "OPTIONS"})

Key = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Planned:
    """One request to send ahead: a safe method, no body (a body or another method may change
    state)."""

    path: str
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"

    def __post_init__(self) -> None:
        if self.method not in SAFE_METHODS:
            raise ValueError(f"only {sorted(SAFE_METHODS)} are sent ahead, not {self.method}")

    @classmethod
    def get(cls, path: str, headers: Mapping[str, str] | None = None) -> Planned:
        return cls(path, tuple(sorted((headers or {}).items())))

    @classmethod
    def options(cls, path: str, headers: Mapping[str, str] | None = None) -> Planned:
        return cls(path, tuple(sorted((headers or {}).items())), "OPTIONS")


def key_of(method: str, url: str, headers: Mapping[str, str] | None) -> Key:
    return method, url, tuple(sorted((headers or {}).items()))


class Prefetch:
    """The bounded batch and its answers, keyed by URL and request headers."""

    def __init__(self, new_client: Callable[[], HttpClient], planned: Iterable[Planned],
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        self._new_client = new_client
        self._local = threading.local()
        self._clients: list[HttpClient] = []
        self._lock = threading.Lock()
        self._answers: dict[Key, deque[Future[HttpResult]]] = {}
        self.sent = 0
        self.served = 0
        self.timeout_s = 0.0
        self._pool: ThreadPoolExecutor | None = None
        planned = list(planned)
        if not planned:
            return
        first = self._client()  # the caller's thread: resolves URLs the way the checks' clients do
        self.timeout_s = first.timeout_s
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_in_flight),
                                        thread_name_prefix="cutover-prefetch")
        for item in planned:
            key = key_of(item.method, first.url(item.path), dict(item.headers))
            self._answers.setdefault(key, deque()).append(self._pool.submit(self._send, item))
            self.sent += 1

    def _client(self) -> HttpClient:
        """One client per worker thread: a requests.Session is not shared between threads."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
            with self._lock:
                self._clients.append(client)
        return client

    def _send(self, item: Planned) -> HttpResult:
        result = self._client().request(item.method, item.path, headers=dict(item.headers) or None)
        result.sent_ahead = True
        return result

    def take(self, method: str, url: str, headers: Mapping[str, str] | None) -> HttpResult | None:
        """An answer sent ahead for exactly this request, once; None: the caller sends its own."""
        if method not in SAFE_METHODS:
            return None
        with self._lock:
            queue = self._answers.get(key_of(method, url, headers))
            future = queue.popleft() if queue else None
        if future is None:
            return None
        try:
            result = future.result(timeout=self.timeout_s + WAIT_MARGIN_S)
        except Exception:  # noqa: BLE001 - a prefetch that broke or hangs: the check sends its own
            return None
        if result.status is None:
            return None
        with self._lock:
            self.served += 1
        return result

    def close(self) -> None:
        if self._pool is not None:
            for queue in self._answers.values():
                for future in queue:
                    future.cancel()
            self._pool.shutdown(wait=True)
        for client in self._clients:
            client.close()
