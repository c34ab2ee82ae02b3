"""Remove secrets from anything the suite writes: reports, evidence, messages, JUnit.

Pure module. Three layers: the known secret values of the environment (DSNs, passwords, tokens,
read from the referenced variables) are replaced wherever they appear, with the password inside a
DSN or URL (as written, percent-decoded and -encoded) known on its own; a fragment of 8 or more
characters of a known password or token is masked too, since drivers and libraries echo parts of
a value they could not parse; and patterns catch what looks secret even when we did not know the
value (URL userinfo, bearer tokens, JWTs, cookies, password= in DSNs and exception reprs).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

FRAGMENT = 8  # shortest piece of a known secret masked on its own

MASK = "***"


class _Rule(NamedTuple):
    """A pattern, its replacement, and the words it cannot match without: a rule whose words are
    absent from a text is not run (most answers carry none). `folded`: the pattern ignores case,
    so its words are looked up in the lower-cased text, except in a text holding one of the few
    non-ASCII letters re.I folds onto ASCII ones (`_FOLDS_ONTO_ASCII`), where every rule runs. A
    substitution inserts MASK, which holds no letter, so it cannot make a word appear.

    `anchors` and `start`: where a match can begin, found with str.find instead of the regex
    engine trying every position (a scan of the whole text per rule was most of the report's
    redaction time). Every match holds one of the anchors (looked up like the words), and
    `start` says where, from an anchor, the match begins (`_starts`); `_substitute` tries the
    pattern only there, in order, so it replaces exactly what `pattern.sub` replaces (a
    self-test compares both on generated texts)."""

    pattern: re.Pattern[str]
    replacement: str
    words: tuple[str, ...]
    folded: bool
    anchors: tuple[str, ...]
    start: str


_HEADERS = ("authorization", "cookie", "x-csrf-token")
_HEADER_NAMES = ("authorization", "cookie", "set-cookie", "x-csrf-token")
_SECRET_WORDS = ("passw", "secret", "token", "apikey", "api_key", "api-key")
_API_KEYS = ("api_key", "api-key", "apikey")
_RULES: list[_Rule] = [
    # scheme://user:password@host  ->  scheme://user:***@host
    _Rule(re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+(?=@)", re.I),
          r"\g<pre>" + MASK, ("@",), False,  # every URL has "://", few an "@"
          ("://",), "scheme"),
    _Rule(re.compile(r"(?P<pre>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<pre>" + MASK,
          ("bearer",), True, ("bearer",), "at"),
    _Rule(re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK,
          ("eyJ",), False, ("eyJ",), "at"),
    # the same headers in a dict repr or JSON ({'Set-Cookie': 'sid=...'}), as assertion messages show them
    _Rule(re.compile(r"(?P<pre>[\"'](?:authorization|cookie|set-cookie|x-csrf-token)[\"']\s*:\s*[\"'])"
                     r"[^\"'\r\n]+", re.I), r"\g<pre>" + MASK, _HEADERS, True, _HEADER_NAMES, "quote"),
    _Rule(re.compile(r"(?P<pre>\b(?:authorization|cookie|set-cookie|x-csrf-token)\s*[:=]\s*)[^\r\n]+",
                     re.I), r"\g<pre>" + MASK, _HEADERS, True, _HEADER_NAMES, "at"),
    # "token": "v" / 'secret': 'v' / token=v (a quoted key, or `=`): prose like "no token: POST …"
    # is left alone; password-like keys are masked after a bare colon too (YAML, log lines)
    _Rule(re.compile(r"(?P<pre>[\"'][\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*"
                     r"[\"']\s*[:=]\s*[\"']?)[^\"'\s,}&]+", re.I), r"\g<pre>" + MASK, _SECRET_WORDS, True,
          ("password", "passwd", "secret", "token", *_API_KEYS), "quoted-word"),
    _Rule(re.compile(r"(?P<pre>\b(?:password|passwd|secret|token|accessToken|refreshToken|api[_-]?key)"
                     r"\s*=\s*[\"']?)[^\"'\s,}&]+", re.I), r"\g<pre>" + MASK, _SECRET_WORDS, True,
          ("password", "passwd", "secret", "token", "accesstoken", "refreshtoken", *_API_KEYS), "at"),
    _Rule(re.compile(r"(?P<pre>\b(?:password|passwd|api[_-]?key)\s*:\s*[\"']?)[^\"'\s,}&]+", re.I),
          r"\g<pre>" + MASK, ("passw", "apikey", "api_key", "api-key"), True,
          ("password", "passwd", *_API_KEYS), "at"),
    # PGPASSWORD=..., REDIS_TOKEN: ... (environment dumps, kubectl describe, CI logs)
    _Rule(re.compile(r"(?P<pre>\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)[A-Z0-9_]*\s*[=:]\s*"
                     r"[\"']?)[^\"'\s,}&]+"), r"\g<pre>" + MASK, ("PASSW", "SECRET", "TOKEN", "API_KEY"),
          False, ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY"), "upper-word"),
]

# `_substitute` writes the replacement itself: the `pre` group (when there is one), then MASK
assert all(r.replacement == (r"\g<pre>" if "pre" in r.pattern.groupindex else "") + MASK  # noqa: S101
           for r in _RULES)

# Characters re.I matches to an ASCII letter (dotless i, dotted capital I, long s, Kelvin sign):
# in a text without them, a folded pattern's ASCII words match only ASCII letters, and lower()
# keeps every position (only the dotted capital I lowers to two characters).
_FOLDS_ONTO_ASCII = ("\u0131", "\u0130", "\u017f", "\u212a")


def _word_dot_dash(c: str) -> bool:
    return c.isalnum() or c in "_.-"  # [\w.-]: re's \w is str.isalnum() or "_"


def _upper_word(c: str) -> bool:
    return c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def _scheme(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "+.-")


def _back(text: str, at: int, takes: Callable[[str], bool]) -> int:
    """The first position of the run of characters `takes` that ends just before `at`."""
    while at > 0 and takes(text[at - 1]):
        at -= 1
    return at


def _starts(kind: str, text: str, at: int) -> range:
    """Where a match holding the anchor found at `at` can begin (see `_Rule`)."""
    if kind == "at":  # the pattern begins with the anchor
        return range(at, at + 1)
    if kind == "quote":  # a quote, then the anchor
        return range(at - 1, at) if at else range(0)
    if kind == "quoted-word":  # a quote, then word characters, dots and dashes, then the anchor
        begin = _back(text, at, _word_dot_dash)
        return range(begin - 1, begin) if begin else range(0)
    if kind == "upper-word":  # \b, upper-case word characters, then the anchor
        begin = _back(text, at, _upper_word)
        return range(begin, begin + 1)
    # "scheme": a scheme, then the anchor "://"; \b may hold after a +, . or - inside the scheme
    return range(_back(text, at, _scheme), at)


def _substitute(rule: _Rule, text: str, lower: str) -> str:
    """`rule.pattern.sub(rule.replacement, text)`, trying the pattern only where a match can
    begin. `lower` is `text` lower-cased, where a folded rule's anchors are looked up; the text
    holds none of `_FOLDS_ONTO_ASCII`."""
    haystack = lower if rule.folded else text
    candidates: set[int] = set()
    for anchor in rule.anchors:
        at = haystack.find(anchor)
        while at != -1:
            candidates.update(_starts(rule.start, text, at))
            at = haystack.find(anchor, at + 1)
    keep = "pre" in rule.pattern.groupindex  # the replacement is the `pre` group, then MASK
    pieces, last = [], 0
    for begin in sorted(candidates):
        if begin < last:
            continue
        found = rule.pattern.match(text, begin)
        if found is not None:
            pieces += [text[last:begin], found["pre"] + MASK if keep else MASK]
            last = found.end()
    return "".join([*pieces, text[last:]]) if pieces else text


_EMAIL = re.compile(r"[^@\s:/]+@[^@\s:/]+")  # an account's email: masked whole, not by fragments
_KEYWORD_PASSWORD = re.compile(r"\bpassword\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))")


def _parts(value: str) -> tuple[set[str], set[str]]:
    """(whole values to mask, secret parts whose fragments are masked too) of one secret."""
    whole, fragile = {value}, set()
    password = None
    if "://" in value:
        try:
            password = urlsplit(value.strip()).password
        except ValueError:
            match = re.search(r"://[^:/@\s]*:([^@\s]+)@", value)
            password = match.group(1) if match else None
    else:
        match = _KEYWORD_PASSWORD.search(value)
        if match:
            password = match.group(1) or match.group(2)
        elif not _EMAIL.fullmatch(value) and not value.isspace():  # a password, token, broken DSN
            fragile.add(value)
    if password:
        for form in {password, unquote(password), quote(unquote(password), safe="")}:
            whole.add(form)
            fragile.add(form)
    # a Kubernetes Secret, an env dump or a Basic header may show a value base64-encoded
    whole |= {base64.b64encode(v.encode()).decode().rstrip("=") for v in list(whole) if len(v) >= 8}
    return whole, fragile


# Texts remembered with their redaction (a report redacts the same text more than once: a
# check's captured output in each phase, a file and its archived copy); bounded in count and size.
MEMO_LIMIT = 512
MEMO_TEXT_CHARS = 200_000
MEMO_CHARS = 4_000_000


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secret_set: set[str] = set()
        self._by_length: list[str] | None = []  # the secrets longest first; None: sort again
        self._gram_set: set[str] = set()  # every FRAGMENT characters of a password or token
        self._quad_set: set[str] = set()  # every 4 characters of a gram
        self._seen: set[str] = set()  # values already added: learning one again changes nothing
        self._memo: dict[str, str] = {}  # valid for the current secrets; emptied when they grow
        self._memo_chars = 0
        self._run_pattern: re.Pattern[str] | None = None
        self._run_alphabet: frozenset[str] = frozenset()
        self.add(*secrets)

    @property
    def secrets(self) -> list[str]:
        """The known values, longest first so that one containing another is masked whole
        (sorted when asked: a run learns a hundred values, one or two at a time)."""
        if self._by_length is None:
            self._by_length = sorted(self._secret_set, key=lambda s: (-len(s), s))  # ties: stable
        return self._by_length

    def add(self, *values: str) -> None:
        new = [v for v in values if v and len(v) >= 4 and v not in self._seen]
        if not new:
            return
        self._seen.update(new)
        whole, fragile = set(), set()
        for value in new:
            more, parts = _parts(value)
            whole |= more
            fragile |= parts
        whole = {s for s in whole if len(s) >= 4} - self._secret_set  # trivial values ignored
        grams = {part[i:i + FRAGMENT] for part in fragile if len(part) > FRAGMENT
                 for i in range(len(part) - FRAGMENT + 1)} - self._gram_set
        if whole:
            self._secret_set |= whole
            self._by_length = None
        if grams:
            self._gram_set |= grams
            self._quad_set.update(g[k:k + 4] for g in grams for k in range(FRAGMENT - 3))
            alphabet = self._run_alphabet.union(*grams)
            if alphabet != self._run_alphabet:
                self._run_alphabet, self._run_pattern = alphabet, None
        if whole or grams:  # what was redacted before may now be redacted differently
            self._memo.clear()
            self._memo_chars = 0

    def _runs(self) -> re.Pattern[str]:
        """Stretches of FRAGMENT or more characters that occur in some gram: a gram can only
        be found inside one (compiled again only when the grams bring a new character)."""
        if self._run_pattern is None:
            chars = "".join(re.escape(c) for c in sorted(self._run_alphabet))
            self._run_pattern = re.compile(f"[{chars}]{{{FRAGMENT},}}")
        return self._run_pattern

    def _mask_fragments(self, text: str) -> str:
        spans: list[tuple[int, int]] = []
        if len(self._gram_set) < 100:  # a few grams: str.find (C speed) per gram
            for gram in self._gram_set:
                start = text.find(gram)
                while start != -1:
                    spans.append((start, start + FRAGMENT))
                    start = text.find(gram, start + 1)
        else:  # many (session cookies learnt): look only inside runs of the grams' characters,
            # and there only around every 4th position holding 4 characters of some gram: a gram
            # found at i covers the one position p (a multiple of 4) in i..i+3, with p..p+4
            grams, quads = self._gram_set, self._quad_set
            for run in self._runs().finditer(text):
                begin, end = run.span()
                for p in range(begin + (-begin) % 4, end - 3, 4):
                    if text[p:p + 4] in quads:
                        spans += [(i, i + FRAGMENT) for i in range(max(begin, p - 3),
                                                                   min(p, end - FRAGMENT) + 1)
                                  if text[i:i + FRAGMENT] in grams]
        if not spans:
            return text
        spans.sort()
        merged = [spans[0]]
        for begin, end in spans[1:]:
            if begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((begin, end))
        out, last = [], 0
        for begin, end in merged:
            out += [text[last:begin], MASK]
            last = end
        return "".join([*out, text[last:]])

    def __call__(self, text: str) -> str:
        if not text:
            return text
        done = self._memo.get(text)
        if done is not None:
            return done
        out = text
        for secret in self.secrets:
            out = out.replace(secret, MASK)
        out = self._mask_fragments(out)
        folds = not out.isascii() and any(c in out for c in _FOLDS_ONTO_ASCII)
        lower = "" if folds else out.lower()
        for rule in _RULES:
            if rule.folded:
                if not folds and not any(w in lower for w in rule.words):
                    continue
            elif not any(w in out for w in rule.words):
                continue
            if folds:  # rare: every position is tried, as re.I folds those letters onto ASCII
                out = rule.pattern.sub(rule.replacement, out)
            else:
                changed = _substitute(rule, out, lower)
                if changed is not out:
                    out, lower = changed, changed.lower()
        if len(text) <= MEMO_TEXT_CHARS:
            if len(self._memo) >= MEMO_LIMIT or self._memo_chars > MEMO_CHARS:
                self._memo.clear()
                self._memo_chars = 0
            self._memo[text] = out
            # redaction is idempotent, so a redacted text passed again (the report files redact
            # evidence once more on the way out) is known until the secrets grow
            self._memo[out] = out
            self._memo_chars += len(text) + len(out)
        return out
