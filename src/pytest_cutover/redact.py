"""Remove secrets from anything the suite writes: reports, evidence, messages, JUnit.

Pure module. Two layers: the known secret values of the environment (DSNs, passwords, tokens,
read from the referenced variables) are replaced wherever they appear, and patterns catch what
looks secret even when we did not know the value (bearer tokens, JWTs, cookies, DSN passwords).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:password@host  ->  scheme://user:***@host
    (re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+(?=@)", re.I), r"\g<pre>" + MASK),
    (re.compile(r"(?P<pre>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<pre>" + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # the same headers in a dict repr or JSON ({'Set-Cookie': 'sid=...'}), as assertion messages show them
    (re.compile(r"(?P<pre>[\"'](?:authorization|cookie|set-cookie|x-csrf-token)[\"']\s*:\s*[\"'])"
                r"[^\"'\r\n]+", re.I), r"\g<pre>" + MASK),
    (re.compile(r"(?P<pre>\b(?:authorization|cookie|set-cookie|x-csrf-token)\s*[:=]\s*)[^\r\n]+", re.I),
     r"\g<pre>" + MASK),
    # "token": "v" / 'secret': 'v' / token=v (a quoted key, or `=`): prose like "no token: POST …"
    # is left alone; password-like keys are masked after a bare colon too (YAML, log lines)
    (re.compile(r"(?P<pre>[\"'](?:password|passwd|secret|token|accessToken|refreshToken|api[_-]?key)"
                r"[\"']\s*[:=]\s*[\"']?)[^\"'\s,}&]+", re.I), r"\g<pre>" + MASK),
    (re.compile(r"(?P<pre>\b(?:password|passwd|secret|token|accessToken|refreshToken|api[_-]?key)"
                r"\s*=\s*[\"']?)[^\"'\s,}&]+", re.I), r"\g<pre>" + MASK),
    (re.compile(r"(?P<pre>\b(?:password|passwd|api[_-]?key)\s*:\s*[\"']?)[^\"'\s,}&]+", re.I),
     r"\g<pre>" + MASK),
]


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first so a secret that contains another is masked whole; ignore trivial values.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, *values: str) -> None:
        self.secrets = sorted({*self.secrets, *(v for v in values if v and len(v) >= 4)},
                              key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text
