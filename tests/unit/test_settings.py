"""cutover.toml: precedence option > env var > ini > default, includes, env_file, CA bundle, and
every kind of operator mistake reported together in one readable ConfigError."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_cutover.settings import Chosen, ConfigError, Settings, choose, load, read_dotenv
from pytest_cutover.thresholds import Threshold

GOOD = """
[cutover]
default_environment = "staging"

[environments.staging]
kind = "staging"
base_url = "https://staging.example.com"
release = "2.0.0"

[environments.production]
kind = "production"
base_url = "https://ils.example.com/"
release = "2.0.0"
database = { dsn_env = "T_PROD_DSN" }

[environments.production.not_applicable]
cdn = "no CDN in front of ILS"

[environments.production.thresholds]
p95_ms = { warn = 400 }
"""


def self_signed_pem() -> str:
    """A real (throwaway) CA certificate: ca_bundle is parsed, not just opened."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def write(folder: Path, text: str, name: str = "cutover.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load_env(path: Path, env_name: str | None, env: dict[str, str] | None = None) -> Settings:
    return load(Chosen(str(path), "test"), Chosen(env_name, "test"), env=env or {})


def problems_of(path: Path, env_name: str | None = None, env: dict[str, str] | None = None
                ) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_env(path, env_name, env)
    return info.value.problems


# --- precedence ------------------------------------------------------------------------------

@pytest.mark.parametrize(("option", "env", "ini", "expected", "source"), [
    ("production", {"CUTOVER_ENV": "poison-env"}, "poison-ini", "production", "--cutover-env"),
    (None, {"CUTOVER_ENV": "production"}, "poison-ini", "production", "$CUTOVER_ENV"),
    (None, {"CUTOVER_ENV": ""}, "production", "production", "ini cutover_env"),
    (None, {}, None, None, "[cutover] default_environment"),
])
def test_environment_choice_precedence(tmp_path: Path, option: str | None, env: dict[str, str],
                                       ini: str | None, expected: str | None, source: str) -> None:
    chosen = choose(option, "--cutover-env", env, "CUTOVER_ENV", ini, "cutover_env", None,
                    "[cutover] default_environment")
    assert (chosen.value, chosen.source) == (expected, source)
    # the winner loads; the poison values in the losing sources would not
    settings = load(Chosen(str(write(tmp_path, GOOD)), "test"), chosen, env={"T_PROD_DSN": "postgresql://u:p@db/ils"})
    assert settings.environment.name == (expected or "staging")
    assert settings.sources["environment"].source == source


def test_default_environment_comes_from_the_cutover_table(tmp_path: Path) -> None:
    assert load_env(write(tmp_path, GOOD), None).environment.name == "staging"


def test_environment_exposes_its_coordinates(tmp_path: Path) -> None:
    settings = load_env(write(tmp_path, GOOD), "production", {"T_PROD_DSN": "postgresql://u:p@h/db"})
    env = settings.environment
    assert (env.name, env.kind, env.is_production, env.base_url, env.release) == (
        "production", "production", True, "https://ils.example.com", "2.0.0")
    assert env.component("database") == {"dsn_env": "T_PROD_DSN"}
    assert env.secret("T_PROD_DSN") == "postgresql://u:p@h/db"
    assert env.threshold("p95_ms") == Threshold(warn=400, crit=1000, unit="ms", rollback=2000)
    assert settings.environments == ["production", "staging"]
    assert settings.signoffs_path == tmp_path / "signoffs.toml"


def test_unconfigured_and_not_applicable_components_say_why(tmp_path: Path) -> None:
    env = load_env(write(tmp_path, GOOD), "production", {"T_PROD_DSN": "postgresql://u:p@db/ils"}).environment
    with pytest.raises(Exception, match=r"redis is not configured for environment 'production': "
                                        r"add \[environments.production.redis\]") as info:
        env.component("redis")
    assert not info.value.not_applicable  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="cdn is declared not applicable for 'production': no CDN") as info:
        env.component("cdn")
    assert info.value.not_applicable  # type: ignore[attr-defined]


# --- include, env_file, ca_bundle ------------------------------------------------------------

def test_include_is_merged_below_the_environment_table(tmp_path: Path) -> None:
    write(tmp_path, """
        base_url = "https://included.example.com"
        release = "1.0.0"
        redis = { url_env = "T_REDIS", min_version = "6" }
    """, "run/local.toml")
    path = write(tmp_path, """
        [environments.local]
        kind = "other"
        include = "run/local.toml"
        release = "2.0.0"
        redis = { min_version = "7" }
    """)
    env = load_env(path, "local", {"T_REDIS": "redis://:pw@h"}).environment
    assert env.base_url == "https://included.example.com"
    assert env.release == "2.0.0"  # the file wins over the include
    assert env.component("redis") == {"url_env": "T_REDIS", "min_version": "7"}  # deep merge
    assert "include" not in env.data


def test_env_file_supplies_secrets_and_they_are_known_for_redaction(tmp_path: Path) -> None:
    write(tmp_path, """
        # comment
        export T_DSN='postgresql://app:s3cr3t-pw@db/ils'
        T_OTHER="another-secret"
        not a pair
    """, "run/secrets.env")
    path = write(tmp_path, """
        [environments.local]
        kind = "other"
        base_url = "http://127.0.0.1:8000"
        env_file = "run/secrets.env"
        database = { dsn_env = "T_DSN" }
    """)
    env = load_env(path, "local").environment
    assert env.secret("T_DSN") == "postgresql://app:s3cr3t-pw@db/ils"
    assert env.secret_values() == ["postgresql://app:s3cr3t-pw@db/ils", "another-secret"]
    # a variable in the process environment wins over the env_file
    env2 = load_env(path, "local", {"T_DSN": "postgresql://from-env/ils"}).environment
    assert env2.secret("T_DSN") == "postgresql://from-env/ils"


def test_read_dotenv_strips_quotes_and_export(tmp_path: Path) -> None:
    dotenv = tmp_path / "x.env"
    dotenv.write_text("export A='1'\nB=\"two words\"\n\n#C=3\nD = 4\n")
    assert read_dotenv(dotenv) == {"A": "1", "B": "two words", "D": "4"}


@pytest.mark.parametrize("absolute", [False, True])
def test_ca_bundle_is_resolved_relative_to_the_config_file(tmp_path: Path, absolute: bool) -> None:
    ca = write(tmp_path, self_signed_pem(), "certs/ca.pem")
    path = write(tmp_path / "conf", f"""
        [environments.local]
        kind = "other"
        base_url = "https://127.0.0.1:8443"
        ca_bundle = "{ca if absolute else '../certs/ca.pem'}"
    """)
    assert load_env(path, "local").environment.ca_bundle == str(ca.resolve())


# --- bad configuration: one ConfigError listing every problem --------------------------------

BASE = """
[cutover]
default_environment = "local"
[environments.local]
kind = "other"
base_url = "https://ils.example.com"
"""

BAD_CONFIGS = {
    "bad URL": (BASE.replace("https://ils.example.com", "ils.example.com"),
                "environments.local.base_url: found 'ils.example.com'; expected an http(s) URL with a host"),
    "missing secret variable": (BASE + 'database = { dsn_env = "T_NOT_SET_DSN" }\n',
                                "secret variable 'T_NOT_SET_DSN' is not set"),
    "negative threshold": (BASE + "thresholds.p95_ms = { warn = -5 }\n",
                           "environments.local.thresholds.p95_ms: warn must be a number >= 0, got -5"),
    "inverted threshold": (BASE + "thresholds.p95_ms = { warn = 900, crit = 100 }\n",
                           "environments.local.thresholds.p95_ms: warn 900 is above crit 100"),
    "unknown threshold key": (BASE + "thresholds.p95_ms = { warning = 900 }\n",
                              "unknown threshold key(s) warning"),
    "unknown key with did-you-mean": (BASE + 'databse = { dsn_env = "X" }\n',
                                      "environments.local.databse: unknown key (did you mean 'database'?)"),
    "unknown nested key": (BASE + 'redis = { url_enf = "X" }\n',
                           "environments.local.redis.url_enf: unknown key (did you mean 'url_env'?)"),
    "wrong kind of value": (BASE + 'timeout_s = "ten"\n',
                            "environments.local.timeout_s: found 'ten' (str); expected a number"),
    "wrong kind of list": (BASE + 'tls = { hosts = "ils.example.com" }\n',
                           "environments.local.tls.hosts: found 'ils.example.com' (str); expected a "
                           "list of strings"),
    "bad environment kind": (BASE.replace('kind = "other"', 'kind = "prod"'),
                             "environments.local.kind: found 'prod'; expected one of production, "
                             "staging, other"),
    "missing kind": (BASE.replace('kind = "other"', ""), "environments.local.kind: missing"),
    "missing base_url": (BASE.replace('base_url = "https://ils.example.com"', ""),
                         "environments.local.base_url: missing"),
    "include missing": (BASE + 'include = "run/nope.toml"\n',
                        "environments.local.include: 'run/nope.toml' does not exist"),
    "env_file missing": (BASE + 'env_file = "nope.env"\n',
                         "environments.local.env_file: 'nope.env' does not exist"),
    "ca_bundle missing": (BASE + 'ca_bundle = "nope.pem"\n',
                          "environments.local.ca_bundle: 'nope.pem' does not exist"),
    "unknown top-level table": ("[environment.typo]\nkind = 1\n" + BASE,
                                "environment: unknown top-level table"),
    "unknown [cutover] key": (BASE.replace("[cutover]", '[cutover]\nreport = "r"'),
                              "cutover.report: unknown key (did you mean 'reports'?)"),
    "thresholds not a table": (BASE + "thresholds = 5\n",
                               "environments.local.thresholds: found 5; expected a table"),
    "endpoints not a table": (BASE + 'endpoints = ["health"]\n',
                              "environments.local.endpoints: found ['health']; expected a table"),
    "not_applicable not a table": (BASE + 'not_applicable = "cdn"\n',
                                   "environments.local.not_applicable: found 'cdn'; expected a table"),
}


@pytest.mark.parametrize(("text", "expected"), list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_bad_configuration_is_one_readable_config_error(tmp_path: Path, text: str,
                                                        expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_env(path, None)
    rendered = info.value.render()
    assert expected.replace(" 'nope", f" '{tmp_path}/nope").replace(
        " 'run/nope", f" '{tmp_path}/run/nope") in rendered, rendered
    assert rendered.startswith("cutover configuration")
    assert "Traceback" not in rendered


@pytest.mark.parametrize(("text", "env_name", "expected"), [
    (BASE, "prod", "unknown cutover environment 'prod' (chosen by test); expected one of: local"),
    ("[environments]\n", None, "no [environments.NAME] table is defined"),
    (BASE.replace('default_environment = "local"', ""), None, "no cutover environment selected"),
    ("[environments.local\nkind=", None, "is not valid TOML"),
])
def test_selection_and_file_problems(tmp_path: Path, text: str, env_name: str | None,
                                      expected: str) -> None:
    assert expected in " ".join(problems_of(write(tmp_path, text), env_name))


def test_missing_config_file_says_how_to_fix_it(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nope.toml", "local")
    assert problems[0] == f"config file '{tmp_path}/nope.toml' does not exist (chosen by test)"
    assert "--cutover-config" in problems[1]


def test_missing_include_suggests_starting_the_reference_deployment(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE + 'include = "run/local.toml"\n'))
    assert any("python -m ilsref up" in p for p in problems)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = BASE.replace("https://ils.example.com", "ftp://x") + textwrap.dedent("""
        databse = {}
        timeout_s = "slow"
        env_file = "nope.env"
        thresholds.p95_ms = { warn = 900, crit = 100 }
        redis = { url_env = "T_UNSET_REDIS" }
    """)
    with pytest.raises(ConfigError) as info:
        load_env(write(tmp_path, text), None)
    problems = info.value.problems
    assert len(problems) == 6, problems
    rendered = info.value.render()
    assert rendered.startswith("cutover configuration has 6 problems:\n  - ")
    for fragment in ("base_url", "databse", "timeout_s", "env_file", "p95_ms", "T_UNSET_REDIS"):
        assert fragment in rendered
