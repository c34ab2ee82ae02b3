"""What an answer should never show a stranger: stack traces, internal paths, SQL errors, framework
error pages, version banners.

Pure module. `scan(text, headers)` returns one finding per kind found, each with a short excerpt
around the match (the caller redacts it before it is shown). The patterns look for the shape of
the thing (a Node `at fn (/app/x.js:1:2)` frame, a Python `Traceback (most recent call last)`),
not for words that ordinary pages use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

EXCERPT_CHARS = 160
SCAN_CHARS = 200_000  # a larger body is scanned up to here: leaks sit near the top of an error

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("node stack trace", re.compile(
        r"\b(?:Error|TypeError|ReferenceError|RangeError|SyntaxError)\b[^\n]{0,200}"
        r"(?:\n|\\n)\s*at [\w.<>$\[\] ]*\(?(?:/|[A-Za-z]:\\|node:|file://)[^\s()]+:\d+:\d+")),
    ("python traceback", re.compile(r"Traceback \(most recent call last\):|"
                                    r"File \"[^\"]+\.py\", line \d+, in \w+")),
    ("java stack trace", re.compile(r"\b(?:[a-z]\w*\.)+[A-Z]\w*(?:Exception|Error)\b[^\n]{0,200}"
                                    r"(?:\n|\\n)\s*at (?:[\w$]+\.)+[\w$<>]+\([\w$]+\.java:\d+\)")),
    (".net stack trace", re.compile(r"\bat [\w.`<>]+\([^)]*\) in [A-Za-z]:\\[^\n]+:line \d+|"
                                    r"System\.\w+Exception: [^\n]+(?:\n|\\n)\s*at ")),
    ("internal file path", re.compile(
        r"(?<![\w/.])(?:/(?:home|root|srv|opt|var/www|usr/src|app|workspace)/[\w./@-]*"
        r"(?:/node_modules/|\.(?:js|mjs|cjs|ts|py|java|rb|php|go|cs|html|json|env|ya?ml)\b)"
        r"|[A-Za-z]:\\(?:Users|inetpub|Program Files)\\[^\s\"']+)")),
    ("sql error", re.compile(
        r'\b(?:syntax error at or near|relation \\?"[^"\\]+\\?" does not exist|'
        r'column \\?"[^"\\]+\\?" does '
        r"not exist|duplicate key value violates|SQLSTATE\[|ORA-\d{5}|You have an error in your "
        r"SQL syntax|PG::\w+Error|psycopg2?\.errors\.|SequelizeDatabaseError|PrismaClient\w*Error|"
        r"QueryFailedError|ER_[A-Z_]+:|sqlite3\.OperationalError)")),
    ("framework error page", re.compile(
        r"Whitelabel Error Page|<title>Error</title>\s*</head>\s*<body>\s*<pre>|"
        r"Werkzeug Debugger|DisallowedHost at|Server Error in '/' Application|"
        r"<h1>Internal Server Error</h1>\s*<p>The server encountered|An unhandled exception "
        r"occurred while processing the request|Django Version:|Laravel\b.{0,40}\bException")),
)
# Literal text each pattern cannot match without (any one of the words): a body holding none of a
# kind's words is not searched for that kind (most answers hold none; the patterns are costly).
NEEDS: dict[str, tuple[str, ...]] = {
    "node stack trace": ("Error",),
    "python traceback": ("Traceback (most recent call last):", 'File "'),
    "java stack trace": (".java:",),
    ".net stack trace": (":line ", "System."),
    "internal file path": ("/home/", "/root/", "/srv/", "/opt/", "/var/www/", "/usr/src/", "/app/",
                           "/workspace/", ":\\"),
    "sql error": ("syntax error at or near", "does not exist", "duplicate key value violates",
                  "SQLSTATE[", "ORA-", "You have an error in your SQL syntax", "PG::", "psycopg",
                  "SequelizeDatabaseError", "PrismaClient", "QueryFailedError", "ER_",
                  "sqlite3.OperationalError"),
    "framework error page": ("Whitelabel Error Page", "<title>Error</title>", "Werkzeug Debugger",
                             "DisallowedHost at", "Server Error in '/' Application",
                             "<h1>Internal Server Error</h1>", "An unhandled exception occurred",
                             "Django Version:", "Laravel"),
}
BANNER_HEADERS = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version",
                  "x-runtime", "x-generator")
VERSION = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class Leak:
    kind: str
    excerpt: str  # raw: the caller redacts it


def _excerpt(text: str, start: int, end: int) -> str:
    lo = max(0, start - 30)
    piece = " ".join(text[lo:min(len(text), max(end, start + 60))].split())
    return piece[:EXCERPT_CHARS] + ("…" if len(piece) > EXCERPT_CHARS else "")


def scan(text: str, headers: Mapping[str, str] | None = None) -> list[Leak]:
    """One leak per kind found in the body (first match) and per banner header with a version."""
    found: list[Leak] = []
    body = text[:SCAN_CHARS]
    for kind, pattern in PATTERNS:
        if not any(word in body for word in NEEDS[kind]):
            continue
        match = pattern.search(body)
        if match:
            found.append(Leak(kind, _excerpt(body, match.start(), match.end())))
    for name, value in (headers or {}).items():
        if name.lower() in BANNER_HEADERS and VERSION.search(str(value)):
            found.append(Leak("version banner", f"{name}: {value}"[:EXCERPT_CHARS]))
    return found


TEXT_TYPES = ("json", "text/", "html", "xml", "javascript")


def is_text(content_type: str | None) -> bool:
    """Whether an answer of this Content-Type is worth scanning (no images, fonts, archives)."""
    return content_type is None or any(t in content_type.lower() for t in TEXT_TYPES)
