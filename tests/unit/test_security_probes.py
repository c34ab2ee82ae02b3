"""The pure parts of the attacker's-view checks: CSP weak spots, CORS origin variants, the leak
scanner, the route sweep's route list, the known default accounts."""

from __future__ import annotations

import pytest

from pytest_cutover import cors_origins, csp, default_accounts, leak_scan, route_sweep
from pytest_cutover.leaks import LeakLog, LeakTotals
from pytest_cutover.settings import Environment

# --- CSP --------------------------------------------------------------------------------------


def names(policy: str) -> list[tuple[str, str, str]]:
    return [(f.name, f.directive, f.value) for f in csp.findings(policy)]


def test_a_closed_policy_has_no_weak_spot():
    assert names("default-src 'self'; base-uri 'self'; object-src 'none'") == []


@pytest.mark.parametrize(("policy", "expected"), [
    ("default-src 'self'; script-src 'self' 'unsafe-inline'; base-uri 'none'; object-src 'none'",
     [("unsafe-inline", "script-src", "'unsafe-inline'")]),
    ("default-src 'self' 'unsafe-eval'; base-uri 'none'",
     [("unsafe-eval", "default-src", "'unsafe-eval'")]),
    ("script-src * data:; object-src 'none'; base-uri 'self'",
     [("wildcard", "script-src", "*"), ("data-script", "script-src", "data:")]),
    ("script-src https: 'self'; object-src 'none'; base-uri 'self'",
     [("scheme-only", "script-src", "https:")]),
    ("script-src 'self'", [("missing-object-src", "object-src", ""), ("missing-base-uri", "base-uri", "")]),
], ids=["unsafe-inline", "unsafe-eval-in-default", "wildcard-and-data", "scheme-only", "missing"])
def test_each_weak_spot_is_named_with_directive_and_value(policy, expected):
    assert names(policy) == expected


def test_strict_dynamic_with_a_nonce_makes_inline_and_hosts_harmless():
    policy = ("script-src 'nonce-abc' 'strict-dynamic' 'unsafe-inline' https:; object-src 'none'; "
              "base-uri 'none'")
    assert names(policy) == []


def test_the_reason_names_directive_and_value():
    finding = csp.findings("script-src 'self' 'unsafe-eval'; object-src 'none'; base-uri 'self'")[0]
    assert finding.reason() == "script-src 'unsafe-eval' allows eval()"


# --- CORS -------------------------------------------------------------------------------------

def test_every_variant_is_built_from_the_allowed_host():
    probes = {p.variant: p.origin for p in cors_origins.probes("https://ils.example.com/x")}
    assert probes == {
        "foreign": "https://evil.example", "null": "null",
        "allowed-as-prefix": "https://ils.example.com.evil.example",
        "allowed-as-suffix": "https://evilils.example.com",
        "allowed-as-substring": "https://ils.example.com-evil.example",
        "localhost-in-foreign": "https://localhost.evil.example",
        "loopback-in-foreign": "https://127.0.0.1.evil.example",
        "allowed-over-http": "http://ils.example.com",
        "unlisted-subdomain": "https://cutover-probe.ils.example.com",
        "unescaped-dot": "https://ils.examplexcom",
        "special-character": "https://ils.example.com`.evil.example",
        "underscore-host": "https://ils.example.com_.evil.example",
    }


def test_a_port_stays_and_an_http_allowed_origin_has_no_http_variant():
    probes = {p.variant: p.origin for p in cors_origins.probes("x", "http://localhost:8443")}
    assert probes["allowed-as-prefix"] == "http://localhost.evil.example:8443"
    assert "allowed-over-http" not in probes


@pytest.mark.parametrize(("headers", "granted"), [
    ({"Access-Control-Allow-Origin": "null", "Access-Control-Allow-Credentials": "true"}, True),
    ({"access-control-allow-origin": "*", "access-control-allow-credentials": "true"}, True),
    ({"Access-Control-Allow-Origin": "null"}, False),
    ({"Access-Control-Allow-Origin": "https://ils.example.com",
      "Access-Control-Allow-Credentials": "true"}, False),
])
def test_granted_means_the_origin_echoed_with_credentials(headers, granted):
    assert cors_origins.granted("null", headers) is granted


# --- leaks ------------------------------------------------------------------------------------

NODE_500 = ('{"error":"ENOENT","stack":"Error: ENOENT: no such file, scandir \'/app/dist\'\\n'
            '    at Object.readdirSync (node:fs:1507:3)\\n    at /app/dist/index.js:418:20"}')


@pytest.mark.parametrize(("text", "kind"), [
    (NODE_500, "node stack trace"),
    ("Traceback (most recent call last):\n  File \"/srv/x.py\", line 3, in main", "python traceback"),
    ("java.lang.IllegalStateException: boom\n\tat com.acme.Api.get(Api.java:42)", "java stack trace"),
    ("System.NullReferenceException: x\r\n   at Acme.Api.Get() in C:\\src\\Api.cs:line 9",
     ".net stack trace"),
    ('{"error":"relation \\"users\\" does not exist"}', "sql error"),
    ("<h1>Whitelabel Error Page</h1>", "framework error page"),
])
def test_each_kind_of_leak_is_found(text, kind):
    assert kind in {leak.kind for leak in leak_scan.scan(text)}


def test_ordinary_pages_and_bundles_leak_nothing():
    text = ('<a href="/app/settings/profile">Profile</a><script>fetch("/api/admin/users")'
            '.catch(e => console.error("Error: " + e))</script>{"error":"Invalid email or password"}')
    assert leak_scan.scan(text, {"Server": "nginx", "Content-Type": "text/html"}) == []


def test_a_version_banner_is_a_leak():
    assert [leak.kind for leak in leak_scan.scan("", {"X-Powered-By": "PHP/8.1.2"})] == ["version banner"]


def test_the_log_redacts_names_the_request_and_keeps_each_kind_and_path_once():
    log = LeakLog(lambda text: text.replace("ENOENT", "***"))
    log.current = "readiness/test_route_sweep.py::test_x"
    for _ in range(2):
        log.observe("GET", "https://t/api/diagnostic/filesystem?x=1", 500,
                    {"Content-Type": "application/json"}, NODE_500)
    totals = LeakTotals()
    totals.add(log.drain())
    assert totals.scanned == 2 and len(totals.findings) == 2  # a stack trace and a file path
    assert "ENOENT" not in totals.message()
    assert totals.message().startswith("2 leak(s) in the 2 answers scanned: GET /api/diagnostic/filesystem "
                                       "answered 500 showing a node stack trace (http, during test_x)")


def test_only_the_target_apps_answers_are_judged():
    # a log store or Sentry returns the app's stack traces as data: not a leak of theirs
    log = LeakLog(str, origins=frozenset({"https://ils.example.com"}))
    log.observe("GET", "https://logs.example.com/loki/api/v1/query_range", 200,
                {"Content-Type": "application/json"}, NODE_500)
    log.observe("GET", "https://ILS.example.com/api/diagnostic/filesystem", 500,
                {"Content-Type": "application/json"}, NODE_500)
    found = log.drain()
    assert found["scanned"] == 1 and {f["request"] for f in found["findings"]} == {
        "GET /api/diagnostic/filesystem"}


# --- route sweep ------------------------------------------------------------------------------

def test_routes_come_from_every_source_filled_unique_and_bounded():
    document = {"paths": {"/api/orders/{id}": {"get": {}}, "/api/login": {"post": {}},
                          "/api/health": {"GET": {}}}}
    js = 'fetch("/api/patients?limit=5");get(`/api/orders/${id}/items`);x="/api/"'
    routes = route_sweep.gather([("openapi", route_sweep.from_openapi(document)),
                                 ("profile", ["/api/diagnostic/filesystem", "/api/users/:id"]),
                                 ("spa", route_sweep.from_javascript(js))], limit=5,
                                exclude=["/api/health*"])
    assert [(r.path, r.source) for r in routes] == [
        ("/api/orders/1", "openapi"), ("/api/diagnostic/filesystem", "profile"),
        ("/api/users/1", "profile"), ("/api/patients", "spa"),
        ("/api/orders", "spa")]  # a template literal's dynamic rest is cut off


def test_only_refusals_are_not_exposed_and_admin_prefixes_match_whole_segments():
    assert [s for s in (200, 204, 302, 401, 403, 404, 405, 429, 500, None)
            if route_sweep.exposed(s)] == [200, 204, 302, 500]
    assert route_sweep.is_admin("/api/admin/users", ["/api/admin"])
    assert not route_sweep.is_admin("/api/administrators", ["/api/admin"])
    assert route_sweep.matches("/api/docs/openapi.json", ["/api/docs*"])


# --- default accounts ---------------------------------------------------------------------------

def environment(kind: str, email: str, password: str = "a-long-own-passphrase") -> Environment:  # noqa: S107
    data = {"kind": kind, "base_url": "https://ils.example.com",
            "accounts": {"admin": {"email_env": "ADMIN_EMAIL", "password_env": "ADMIN_PASSWORD"}},
            "security": {"default_credentials": [{"email": "ops@clinic.example",
                                                  "password": "Admin@123456"}]}}
    return Environment("production", data, env={"ADMIN_EMAIL": email, "ADMIN_PASSWORD": password})


def test_production_refuses_a_known_seeded_account_as_its_own_and_names_it():
    problems = default_accounts.own_account_problems(environment("production", "Admin@ILS2.com"))
    assert len(problems) == 1
    assert "accounts.admin is 'admin@ils2.com', a known default account" in problems[0]
    assert "AdminOperationsService.ts" in problems[0]


def test_other_kinds_and_own_accounts_pass():
    assert default_accounts.own_account_problems(environment("staging", "admin@ils2.com")) == []
    assert default_accounts.own_account_problems(environment("production", "ops@clinic.example")) == []


def test_a_generic_entry_makes_an_account_default_only_with_its_public_password():
    # the generic list probes a real address with a public password; the address alone is no finding
    problems = default_accounts.own_account_problems(
        environment("production", "ops@clinic.example", password="Admin@123456"))
    assert len(problems) == 1 and "generic default account, with its public password" in problems[0]


def test_seeded_accounts_the_login_cannot_accept_are_not_tried():
    env = environment("other", "x@y.z")
    tried = default_accounts.seeded(env)
    assert tried[0]["email"] == "admin@ils2.com"
    assert all(len(a["password"]) >= 12 for a in tried)


def test_headers_with_a_list_per_name_are_scanned_as_strings():
    log = LeakLog(str)
    log.observe("GET", "https://t/api/x", 500, {"Content-Type": ["application/json"],
                                                "Server": ["nginx/1.18.0"]}, NODE_500)
    kinds = {f["kind"] for f in log.drain()["findings"]}
    assert {"node stack trace", "version banner"} <= kinds


LEAK_CORPUS = [
    NODE_500, "TypeError: x is undefined\n    at render (/srv/app/main.js:10:5)",
    "Traceback (most recent call last):\n  File \"/srv/x.py\", line 3, in main",
    '  File "/opt/app/api.py", line 12, in handler',
    "java.lang.IllegalStateException: boom\n\tat com.acme.Api.get(Api.java:42)",
    "System.NullReferenceException: x\r\n   at Acme.Api.Get() in C:\\src\\Api.cs:line 9",
    "at Acme.Api.Get() in D:\\build\\Api.cs:line 12", "see C:\\Users\\bob\\secret.txt",
    "/home/ils/server/index.ts", "/var/www/html/index.php", "/usr/src/app/node_modules/x",
    '{"error":"relation \\"users\\" does not exist"}', 'column "x" does not exist',
    "ERROR: syntax error at or near \"FROM\"", "SQLSTATE[23000]", "ORA-00942", "PG::UndefinedTable",
    "psycopg2.errors.UniqueViolation", "ER_DUP_ENTRY: dup", "sqlite3.OperationalError: no such",
    "<title>Error</title></head><body><pre>Cannot GET /x</pre>", "Werkzeug Debugger",
    "<h1>Internal Server Error</h1>\n<p>The server encountered an error", "Django Version: 4.2",
    "Laravel 10 ErrorException", "An unhandled exception occurred while processing the request.",
    '<a href="/app/settings/profile">Profile</a> {"error":"Invalid email or password"}', "",
]


@pytest.mark.parametrize("text", LEAK_CORPUS)
def test_the_word_shortcut_finds_what_the_patterns_alone_find(text):
    # each kind's pattern is skipped when none of its NEEDS words is in the body: never a miss
    alone = [kind for kind, pattern in leak_scan.PATTERNS if pattern.search(text)]
    assert [leak.kind for leak in leak_scan.scan(text)] == alone
