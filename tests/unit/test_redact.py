"""Secrets never leave the suite: known values and anything that looks like a credential are masked."""

from __future__ import annotations

import pytest

from pytest_cutover.redact import MASK, Redactor

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize(("text", "secret"), [
    ("connecting to postgresql://ils_app:Pa55-word!@db.internal:5432/ils", "Pa55-word!"),
    ("redis://:r3dis-pw@cache:6379/0", "r3dis-pw"),
    ("Authorization: Bearer abc.DEF-123_xyz", "abc.DEF-123_xyz"),
    ("got header bearer tok_live_9f8e7d", "tok_live_9f8e7d"),
    (f"token was {JWT} in the body", JWT),
    ("Cookie: ils.sid=s%3Aabc123.sig; csrf-token=zzz", "s%3Aabc123.sig"),
    ("Set-Cookie: connect.sid=s3ss10n-value; Path=/; HttpOnly", "s3ss10n-value"),
    ("x-csrf-token: 0123456789abcdef", "0123456789abcdef"),
    ('{"email": "smoke@ils.test", "password": "hunter2hunter2"}', "hunter2hunter2"),
    ("password=hunter2&email=a@b", "hunter2"),
    ("{'accessToken': 'abcdef123456'}", "abcdef123456"),
    ("api_key: k-123456789", "k-123456789"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    # a Python repr of headers, as pytest shows it in an assertion message
    ("{'Set-Cookie': 'ils.sid=s3ss10n-value; Path=/'}", "s3ss10n-value"),
    ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
])
def test_patterns_mask_credentials_we_did_not_know(text: str, secret: str) -> None:
    redacted = Redactor()(text)
    assert secret not in redacted
    assert MASK in redacted


@pytest.mark.parametrize("text", [
    "GET /api/health returned 200 in 12 ms",
    "postgresql://db.internal:5432/ils",  # no password: nothing to hide
    "https://ils.example.com/api/patients?page=2",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor()(text) == text


def test_dsn_keeps_user_and_host_for_the_reader() -> None:
    assert Redactor()("postgresql://ils_app:pw1234@db:5432/ils") == "postgresql://ils_app:***@db:5432/ils"


def test_known_secret_values_are_masked_wherever_they_appear() -> None:
    redact = Redactor(["correct-horse-battery", "xy"])  # values shorter than 4 are ignored
    assert redact("echo correct-horse-battery | base64; xy") == "echo *** | base64; xy"


def test_longest_secret_is_masked_first_so_no_tail_leaks() -> None:
    redact = Redactor(["abcd", "abcdefgh-secret"])
    assert redact("value abcdefgh-secret end") == "value *** end"


def test_secrets_can_be_added_later() -> None:
    redact = Redactor()
    redact.add("late-secret-value", "")
    assert redact("x late-secret-value y") == "x *** y"


def test_empty_text_stays_empty() -> None:
    assert Redactor(["abcd"])("") == ""


@pytest.mark.parametrize("prose", ["no token: POST /api/auth/jwt/me answered 200",
                                   "the secret: rotation is overdue"])
def test_prose_about_tokens_and_secrets_is_kept(prose: str) -> None:
    assert Redactor()(prose) == prose


def test_a_fragment_of_a_known_password_echoed_by_a_driver_is_masked() -> None:
    redact = Redactor(["postgresql://app:Hunter2-Secret-77@db:5432/ils"])
    # psycopg quoting part of a value it could not parse
    text = 'invalid integer value "543x/ils" for "port"; near "Hunter2-Secret" in the URI'
    assert "Hunter2" not in redact(text)
    assert "ecret-77" not in redact("tail was ...ecret-77@db")
    assert redact("connecting to db:5432 as app") == "connecting to db:5432 as app"  # user, host kept


def test_percent_encoded_and_keyword_passwords_are_known_in_every_form() -> None:
    redact = Redactor(["postgresql://app:p%40ss%3Aword-9@db/ils", "host=db password='kw secret 1'"])
    for text in ("auth failed for p@ss:word-9", "url p%40ss%3Aword-9", "got 'kw secret 1'"):
        assert "word-9" not in redact(text) and "secret 1" not in redact(text), redact(text)


def test_many_learnt_secrets_still_mask_fragments() -> None:
    redact = Redactor()
    redact.add(*(f"cookie-value-{i:04d}-abcdefgh" for i in range(60)))
    assert "0042-abcd" not in redact("echo ...value-0042-abcd...")


def test_environment_style_and_repr_style_secrets() -> None:
    redact = Redactor()
    assert "s3cr3t" not in redact("PGPASSWORD=s3cr3t psql -h db")
    assert "tok123456" not in redact("ApiException(headers={'X-Api-Token': 'tok123456'}) REDIS_TOKEN: "
                                     "tok123456")


def test_a_text_redacted_before_a_secret_is_learnt_is_redacted_again_after() -> None:
    redact = Redactor()
    text = "answer echoed sid-value-0123456789"
    assert redact(text) == text  # nothing known yet (remembered for the current secrets)
    redact.add("sid-value-0123456789")
    assert "0123456789" not in redact(text)
    redact.add("sid-value-0123456789")  # learning it again changes nothing
    assert "0123456789" not in redact(text)


def test_patterns_still_apply_to_text_with_letters_that_fold_onto_ascii() -> None:
    # re.IGNORECASE matches the long s with s and the Kelvin sign with k: no shortcut skips those
    redact = Redactor()
    assert "abc123" not in redact("\u017fecret=abc123")
    assert "abc123" not in redact("api_\u212aey=abc123")


def test_fragments_are_found_in_runs_of_their_characters_among_other_text() -> None:
    redact = Redactor()
    redact.add(*(f"v{i:03d}-Zq9xW7pL3mN5" for i in range(40)))
    out = redact("<p>key: [Zq9xW7pL]</p> and /path/xW7pL3mN5?")
    assert "Zq9xW7pL" not in out and "xW7pL3mN" not in out
    assert out.startswith("<p>key: [") and "/path/" in out


def test_redaction_is_idempotent_so_a_redacted_text_may_be_remembered_as_final() -> None:
    # the memo keeps out -> out; that is exact only if redacting twice changes nothing more
    import random
    import string

    redact = Redactor(["Zq7-Pw@rd-DSN-4451", "sid-value-0123456789"])
    redact.add(*(f"v{i:03d}-Zq9xW7pL3mN5" for i in range(40)))
    shapes = ["postgresql://ils_app:Pa55-word!@db.internal:5432/ils", "Authorization: Bearer abc.DEF-1",
              '{"email": "a@b.test", "password": "hunter2hunter2"}', "password=hunter2&email=a@b",
              "Cookie: ils.sid=s%3Aabc123.sig; csrf-token=zzz", "{'Authorization': 'Basic dXNlcjpwYXNz'}",
              f"token {JWT}", "api_key: k-123456789", "x-csrf-token: 0123456789abcdef", "secret=***"]
    known = ["Zq7-Pw@rd-DSN-4451", "sid-value-0123456789", "v007-Zq9xW7pL3mN5", "xW7pL3mN5", ""]
    noise = string.ascii_letters + string.digits + " :=;&@/.-_*'\"{}"
    fresh = Redactor(["Zq7-Pw@rd-DSN-4451", "sid-value-0123456789"])  # has not seen the outputs
    fresh.add(*(f"v{i:03d}-Zq9xW7pL3mN5" for i in range(40)))
    rng = random.Random(15)  # noqa: S311 - a repeatable sample of texts, not a secret
    for _ in range(2000):
        parts = [rng.choice(shapes), rng.choice(known),
                 "".join(rng.choice(noise) for _ in range(rng.randint(0, 30)))]
        rng.shuffle(parts)
        once = redact(" ".join(parts))
        assert fresh(once) == once, parts


def test_a_redacted_text_given_again_is_redacted_again_after_a_new_secret() -> None:
    redact = Redactor()
    once = redact("echoed sid-value-0123456789 and password=hunter2")
    assert redact(once) == once
    redact.add("sid-value-0123456789")
    assert "0123456789" not in redact(once)


def test_each_pattern_is_tried_only_where_it_can_match_and_replaces_what_sub_replaces() -> None:
    # the rules look their anchors up with str.find and try the pattern only there: on
    # generated texts full of near misses, the result must be exactly pattern.sub's, rule by
    # rule, and for the whole redactor (whose word gates must not change a result either)
    import random

    from pytest_cutover.redact import _FOLDS_ONTO_ASCII, _RULES, _substitute

    pieces = ["password", "PASSWORD", "Passwd", "pass", "secret", "SECRET", "TOKEN", "token", "Token",
              "accessToken", "refreshtoken", "api_key", "API-KEY", "apikey", "api", "authorization",
              "Cookie", "set-cookie", "Set-Cookie", "x-csrf-token", "X-CSRF-Token", "Bearer", "bearer",
              "eyJhbGciOi", "eyJ", "eyJzdWIi.", "postgresql", "svn+ssh", "a.b-c", "://", "@", ":", "=",
              '"', "'", " ", "\n", "\t", "\r", ",", "}", "&", ".", "-", "_", "abc12345", "XYZ", "a", "9",
              "/", "DB_", "MY_", "user", "host", "***",
              # non-ASCII: word characters for \\w, and letters re.I folds onto ASCII ones
              "é", "naïve", "ünïcode_", "\u017fecret", "pa\u017f\u017fword", "to\u212aen", "\u0130", "\u0131",
              # whole shapes, so that every pattern matches often
              '"password": "', "'Set-Cookie': '", '"Authorization":"', "'x.api_key' = '",
              '"db.Token":', "'ärger.token': '", "postgresql://u:", "redis://:", "svn+ssh://me:",
              "pw@h", "x@y"]
    rng = random.Random(2026)  # noqa: S311 - a repeatable sample of texts, not a secret
    matched = [0] * len(_RULES)
    whole = Redactor()
    for _ in range(6000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 24)))
        want = text
        for i, rule in enumerate(_RULES):
            before, want = want, rule.pattern.sub(rule.replacement, want)
            matched[i] += want != before
            if not any(c in text for c in _FOLDS_ONTO_ASCII):  # the redactor's own condition
                assert _substitute(rule, text, text.lower()) == rule.pattern.sub(rule.replacement, text), (
                    rule.pattern.pattern, text)
        assert whole(text) == want, text
    # the sample reaches every pattern, not only its near misses
    assert min(matched) >= 20, matched
