"""Weak spots of a Content-Security-Policy, each named by directive and value.

Pure module. A policy that is merely present can still let injected script run: `'unsafe-inline'`
or `'unsafe-eval'` among the script sources, a wildcard or a bare scheme (`https:`, `data:`) that
any host satisfies, no `object-src` (plugins) or no `base-uri` (a planted `<base>` re-points every
relative script). Script sources are `script-src`, else `default-src` (the browser's fallback);
`'strict-dynamic'` with a nonce or hash makes browsers ignore host and scheme sources, so those
are not held against such a policy.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMES_ANY_HOST = ("http:", "https:", "data:", "blob:", "filesystem:", "ws:", "wss:")


@dataclass(frozen=True)
class CspFinding:
    name: str  # stable key: unsafe-inline, unsafe-eval, wildcard, scheme-only, data-script, ...
    directive: str
    value: str

    def reason(self) -> str:
        what = {
            "unsafe-inline": "allows inline script",
            "unsafe-eval": "allows eval()",
            "wildcard": "allows any host",
            "scheme-only": "allows any host of that scheme",
            "data-script": "allows script from data: URLs",
            "missing-object-src": "is missing: plugins may load from anywhere (set object-src 'none')",
            "missing-base-uri": "is missing: an injected <base> re-points relative URLs "
                                "(set base-uri 'self' or 'none')",
        }[self.name]
        if self.name.startswith("missing-"):
            return f"{self.directive} {what}"
        return f"{self.directive} {self.value} {what}"


def directives(policy: str) -> dict[str, list[str]]:
    """Directive name -> its source list; the first occurrence wins, as in browsers."""
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found.setdefault(words[0].lower(), words[1:])
    return found


def _script_sources(parsed: dict[str, list[str]]) -> tuple[str, list[str]] | None:
    for name in ("script-src", "default-src"):
        if name in parsed:
            return name, parsed[name]
    return None


def findings(policy: str | None) -> list[CspFinding]:
    """Every weak spot of `policy` (None or empty: nothing to analyse, the caller says so)."""
    if not policy:
        return []
    parsed = directives(policy)
    found: list[CspFinding] = []
    scripts = _script_sources(parsed)
    if scripts is not None:
        name, sources = scripts
        lowered = [s.lower() for s in sources]
        strict = "'strict-dynamic'" in lowered and any(
            s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in lowered)
        for source, low in zip(sources, lowered, strict=True):
            if low == "'unsafe-inline'" and not strict:
                found.append(CspFinding("unsafe-inline", name, source))
            elif low == "'unsafe-eval'":
                found.append(CspFinding("unsafe-eval", name, source))
            elif low == "data:":
                found.append(CspFinding("data-script", name, source))
            elif strict:
                continue
            elif low == "*" or low.startswith(("*.", "http://*", "https://*")) or low.endswith("://*"):
                found.append(CspFinding("wildcard", name, source))
            elif low in SCHEMES_ANY_HOST:
                found.append(CspFinding("scheme-only", name, source))
    object_src = parsed.get("object-src", parsed.get("default-src"))
    if object_src is None:
        found.append(CspFinding("missing-object-src", "object-src", ""))
    else:
        name = "object-src" if "object-src" in parsed else "default-src"
        found.extend(CspFinding("wildcard" if s in ("*",) else "scheme-only", name, s)
                     for s in object_src if s == "*" or s.lower() in SCHEMES_ANY_HOST)
    if "base-uri" not in parsed:
        found.append(CspFinding("missing-base-uri", "base-uri", ""))
    return found


def describe(found: list[CspFinding]) -> str:
    """One line listing every finding's reason ('' when there is none)."""
    return "; ".join(f.reason() for f in found)
