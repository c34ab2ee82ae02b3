"""HTTP front end: routing, JSON bodies, Status errors and chunked watch streams."""

from __future__ import annotations

import json
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ilsref.k8s import podlogs, resources, routes, tables
from ilsref.k8s.api import Api
from ilsref.k8s.selectors import SelectorError
from ilsref.k8s.store import ApiError

HEALTH_PATHS = {"/healthz", "/livez", "/readyz"}


def _discovery(path: str) -> dict[str, Any] | None:
    """The discovery documents: /version, /api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>."""
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return resources.SERVER_VERSION
    if parts == ["api"]:
        return resources.api_versions()
    if parts == ["apis"]:
        return resources.api_group_list()
    if len(parts) == 2 and parts[0] == "api":
        return resources.resource_list("", parts[1])
    if len(parts) == 2 and parts[0] == "apis":
        return resources.api_group(parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return resources.resource_list(parts[1], parts[2])
    return None


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response has a length or is chunked
    api: Api  # set on the subclass made by make_server
    server_version = "ilsref-kube-apiserver"

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle + delayed ACK adds ~40 ms to every small response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    # --- responses -----------------------------------------------------------------------------
    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, code: int, body: Any) -> None:
        self._send(code, json.dumps(body).encode(), "application/json")

    def _send_error(self, error: ApiError) -> None:
        self._send_json(error.code, error.status())

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"the request body is not JSON: {exc}") from exc

    # --- dispatch ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        try:
            if method == "GET" and url.path in HEALTH_PATHS:
                return self._send(200, b"ok", "text/plain")
            if method == "GET" and (document := _discovery(url.path)) is not None:
                return self._send_json(200, document)
            route = routes.parse(url.path)
            self._handle(method, route, params)
        except ApiError as exc:
            self._send_error(exc)
        except SelectorError as exc:
            self._send_error(ApiError(400, "BadRequest", str(exc)))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # an emulator bug: answer like an API server would, and log it
            traceback.print_exc()
            self._send_error(ApiError(500, "InternalError", f"internal error: {exc!r}"))

    def _handle(self, method: str, route: routes.Route, params: dict[str, str]) -> None:
        api = self.api
        if route.name is None:
            if method == "GET" and params.get("watch") in ("1", "true"):
                return self._stream_watch(route, params)
            if method == "GET":
                listed = api.list(route, params)
                if tables.wants_table(self.headers.get("Accept", "")):
                    listed = tables.table(route.resource.kind, listed["items"],
                                          listed["metadata"]["resourceVersion"])
                return self._send_json(200, listed)
            if method == "POST":
                return self._send_json(201, api.create(route, self._body()))
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on a collection")
        if route.subresource == "log":
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "pods/log supports GET only")
            pod = api.get(route)
            text = podlogs.render(pod, params, app=api.view.app,
                                  error_logs="k8s_error_logs" in api.faults())
            return self._send(200, text.encode(), "text/plain")
        if method == "GET":
            obj = api.get(route)
            if route.subresource is None and tables.wants_table(self.headers.get("Accept", "")):
                obj = tables.table(route.resource.kind, [obj])
            return self._send_json(200, obj)
        if method == "PUT":
            return self._send_json(200, api.replace(route, self._body()))
        if method == "PATCH":
            content_type = self.headers.get("Content-Type", "")
            return self._send_json(200, api.patch(route, content_type, self._body()))
        if method == "DELETE":
            self._body()  # DeleteOptions are accepted and ignored
            return self._send_json(200, api.delete(route))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def _stream_watch(self, route: routes.Route, params: dict[str, str]) -> None:
        events = self.api.watch(route, params)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        as_table = tables.wants_table(self.headers.get("Accept", ""))
        for event in events:
            if as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                event = {**event, "object": tables.table(route.resource.kind, [event["object"]])}
            line = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(api: Api, port: int, host: str = "127.0.0.1") -> ApiServer:
    handler = type("BoundApiHandler", (ApiHandler,), {"api": api})
    return ApiServer((host, port), handler)
