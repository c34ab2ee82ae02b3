"""The family of Origin values a CORS check sends, built from the target's own host.

Pure module. Hand-written CORS code usually compares origins with `includes`, `startsWith`,
`endsWith` or a loose regular expression; each variant below passes one such mistake and fails an
exact comparison, so an origin that is granted names the mistake (the categories the CORS
scanners Corsy and CORStest try). `allowed` is an origin the app is meant to grant (from the
configuration, or learnt from a same-origin request); without one the target's own origin stands
in for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

FOREIGN = "evil.example"  # a reserved name (RFC 2606): never anyone's site

# variant name -> what accepting it reveals; the order is the order of the checks
VARIANTS: dict[str, str] = {
    "foreign": "any origin is granted",
    "null": "the `null` origin (sandboxed frames, file: pages, redirects) is granted",
    "allowed-as-prefix": "the allowed host is matched as a prefix (`startsWith`)",
    "allowed-as-suffix": "the allowed host is matched as a suffix without a dot (`endsWith`)",
    "allowed-as-substring": "the allowed host is matched anywhere in the origin (`includes`)",
    "localhost-in-foreign": "any origin containing `localhost` is granted",
    "loopback-in-foreign": "any origin containing `127.0.0.1` is granted",
    "allowed-over-http": "the allowed origin is granted over plain http (a network attacker's origin)",
    "unlisted-subdomain": "any subdomain of the allowed host is granted",
    "unescaped-dot": "a dot of the allowed host is matched as any character (an unescaped regex)",
    "special-character": "a character lax URL parsers stop at is accepted after the allowed host",
    "underscore-host": "a host with an underscore after the allowed host is granted",
}


@dataclass(frozen=True)
class Probe:
    variant: str
    origin: str
    meaning: str


def _parts(origin: str) -> tuple[str, str, str]:
    """(scheme, host, ':port' or '') of an origin or URL."""
    split = urlsplit(origin if "://" in origin else f"https://{origin}")
    port = f":{split.port}" if split.port else ""
    return split.scheme or "https", (split.hostname or "").lower(), port


def _unescaped_dot(host: str) -> str:
    """The host with its last dot replaced by a letter: `app.example.com` -> `app.examplexcom`;
    a one-label host (`localhost`) gets a letter inside it instead."""
    if "." in host:
        head, _, tail = host.rpartition(".")
        return f"{head}x{tail}"
    return host[:-1] + "x" + host[-1:] if len(host) > 1 else host + "x"


def probes(target_url: str, allowed: str | None = None) -> list[Probe]:
    """One Origin per variant, for the target at `target_url` whose granted origin is `allowed`."""
    scheme, host, port = _parts(allowed or target_url)
    origins = {
        "foreign": f"https://{FOREIGN}",
        "null": "null",
        "allowed-as-prefix": f"{scheme}://{host}.{FOREIGN}{port}",
        "allowed-as-suffix": f"{scheme}://evil{host}{port}",
        "allowed-as-substring": f"{scheme}://{host}-{FOREIGN}{port}",
        "localhost-in-foreign": f"https://localhost.{FOREIGN}",
        "loopback-in-foreign": f"https://127.0.0.1.{FOREIGN}",
        "allowed-over-http": f"http://{host}{port}",
        "unlisted-subdomain": f"{scheme}://cutover-probe.{host}{port}",
        "unescaped-dot": f"{scheme}://{_unescaped_dot(host)}{port}",
        "special-character": f"{scheme}://{host}{port}`.{FOREIGN}",
        "underscore-host": f"{scheme}://{host}_.{FOREIGN}{port}",
    }
    if scheme == "http":  # the allowed origin is plain http already: nothing weaker to try
        del origins["allowed-over-http"]
    return [Probe(name, origins[name], VARIANTS[name]) for name in VARIANTS if name in origins]


def granted(origin: str, headers: Mapping[str, str]) -> bool:
    """Whether the answer lets a page of `origin` read it with the user's credentials: the origin
    echoed (or `*`, which browsers refuse with credentials but which is a finding all the same)
    together with `Access-Control-Allow-Credentials: true`."""
    lower = {k.lower(): v for k, v in headers.items()}
    allow = (lower.get("access-control-allow-origin") or "").strip()
    credentials = (lower.get("access-control-allow-credentials") or "").strip().lower() == "true"
    return credentials and allow in (origin, "*")


def cors_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The Access-Control-* headers of an answer (what a finding shows)."""
    return {k: v for k, v in headers.items() if k.lower().startswith("access-control-")}
