"""Load and validate cutover.toml; select the environment under test.

Pure module: no pytest. Precedence for each setting is option > environment variable > ini >
built-in default, and the source that won is kept so the report header can show it.
All problems are collected and reported together in one `ConfigError`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_cutover import schema
from pytest_cutover.thresholds import DEFAULTS, Threshold


class ConfigError(Exception):
    """Operator mistakes in the configuration or command line; all of them in one message."""

    def __init__(self, problems: list[str], context: str = "") -> None:
        self.problems = problems
        self.context = context  # where the choices came from, e.g. "config x (chosen by ...)"
        super().__init__(self.render())

    def render(self) -> str:
        tail = f"\n  ({self.context})" if self.context else ""
        if len(self.problems) == 1:
            return f"cutover configuration error: {self.problems[0]}{tail}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"cutover configuration has {len(self.problems)} problems:\n{lines}{tail}"


class Unavailable(Exception):
    """A component is not configured (unverified) or declared not applicable."""

    def __init__(self, message: str, not_applicable: bool = False) -> None:
        super().__init__(message)
        self.not_applicable = not_applicable


@dataclass(frozen=True)
class Chosen:
    """A setting's value and where it came from (for the report header)."""

    value: str | None
    source: str


def choose(option: str | None, option_name: str, env: Mapping[str, str], env_name: str,
           ini: str | None, ini_name: str, default: str | None, default_name: str) -> Chosen:
    if option:
        return Chosen(option, option_name)
    if env.get(env_name):
        return Chosen(env[env_name], f"${env_name}")
    if ini:
        return Chosen(ini, f"ini {ini_name}")
    return Chosen(default, default_name)


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ")
        key, sep, value = line.partition("=")
        if not sep:
            continue
        values[key.strip()] = value.strip().strip("'\"")
    return values


_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """`${NAME}` and `${NAME:-default}` in paths (e.g. the reference deployment's run dir)."""
    return _VAR.sub(lambda m: env.get(m["name"]) or (m["default"] or ""), text)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Environment:
    name: str
    data: dict[str, Any]
    secrets_source: dict[str, str] = field(default_factory=dict)  # from env_file
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", "other"))

    @property
    def is_production(self) -> bool:
        return self.kind == "production"

    @property
    def base_url(self) -> str:
        return str(self.data["base_url"]).rstrip("/")

    @property
    def release(self) -> str | None:
        return self.data.get("release")

    @property
    def ca_bundle(self) -> str | None:
        return self.data.get("ca_bundle")

    @property
    def timeout_s(self) -> float:
        return float(self.data.get("timeout_s", 10))

    @property
    def profile(self) -> dict[str, Any]:
        return {**schema.ILS_PROFILE, **self.data.get("profile", {})}

    @property
    def endpoints(self) -> dict[str, dict[str, Any]]:
        configured = self.data.get("endpoints")
        return configured if configured is not None else schema.ILS_ENDPOINTS

    def not_applicable_reason(self, component: str) -> str | None:
        reason = self.data.get("not_applicable", {}).get(component)
        return str(reason) if reason else None

    def has(self, component: str) -> bool:
        return component in self.data

    def component(self, name: str) -> dict[str, Any]:
        """The component's table, or Unavailable saying why it cannot be verified."""
        reason = self.not_applicable_reason(name)
        if reason:
            raise Unavailable(f"{name} is declared not applicable for {self.name!r}: {reason}",
                              not_applicable=True)
        if name not in self.data:
            raise Unavailable(
                f"{name} is not configured for environment {self.name!r}: add "
                f"[environments.{self.name}.{name}] to the config, or declare it under "
                f"[environments.{self.name}.not_applicable] with a reason")
        value = self.data[name]
        return value if isinstance(value, dict) else {"value": value}

    def secret(self, var_name: str) -> str:
        """The value of a secret held in an environment variable (or the env_file)."""
        value = self.env.get(var_name) or self.secrets_source.get(var_name)
        if not value:
            raise Unavailable(f"environment variable {var_name!r} is not set")
        return value

    def secret_values(self) -> list[str]:
        """Every secret value this environment references, for redaction."""
        values = []
        for var in referenced_secret_vars(self.data):
            value = self.env.get(var) or self.secrets_source.get(var)
            if value:
                values.append(value)
        values.extend(self.secrets_source.values())
        return sorted(set(values), key=len, reverse=True)

    def threshold(self, name: str, fallback: Threshold | None = None) -> Threshold:
        base = DEFAULTS.get(name, fallback)
        override = self.data.get("thresholds", {}).get(name)
        if base is None and override is None:
            raise KeyError(f"no threshold named {name!r}")
        if base is None:
            return Threshold(**override)
        return base.with_overrides(override) if override else base


def referenced_secret_vars(data: Any) -> list[str]:
    """Names of environment variables referenced by `*_env` keys anywhere in a table."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_env") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(referenced_secret_vars(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(referenced_secret_vars(value))
    return found


@dataclass
class Settings:
    path: Path
    raw: dict[str, Any]
    environment: Environment
    sources: dict[str, Chosen]

    @property
    def environments(self) -> list[str]:
        return sorted(self.raw.get("environments", {}))

    @property
    def signoffs_path(self) -> Path:
        """The environment's own sign-off file if it names one, else the shared one."""
        chosen: str = self.environment.data.get("signoffs") or self.raw.get("cutover", {}).get(
            "signoffs", "signoffs.toml")
        return self.path.parent / chosen


def _read_toml(path: Path, what: str, problems: list[str], note: str = ""
               ) -> dict[str, Any] | None:
    """The file's tables, or None with the reason in `problems`; never raises for its bytes."""
    before = len(problems)
    try:
        with path.open("rb") as fh:
            data = fh.read()
        return tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        problems.append(f"{what} {str(path)!r} does not exist")
    except IsADirectoryError:
        problems.append(f"{what} {str(path)!r} is a directory, not a TOML file")
    except UnicodeDecodeError as exc:
        problems.append(f"{what} {str(path)!r} is not UTF-8 text (byte {exc.start}: "
                        f"{exc.object[exc.start:exc.start + 1]!r}); save it as UTF-8")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{what} {str(path)!r} is not valid TOML: {exc}")
    except OSError as exc:
        problems.append(f"{what} {str(path)!r} cannot be read: {exc.strerror or exc}")
    if note:
        problems[before:] = [f"{p} {note}" for p in problems[before:]]
    return None


def _check_thresholds(env_name: str, data: dict[str, Any], problems: list[str], file: str) -> None:
    tables: list[tuple[str, Any, Threshold | None]] = []
    thresholds, endpoints = data.get("thresholds"), data.get("endpoints")
    # a non-table here is already reported by the schema; do not crash on it
    for name, value in (thresholds if isinstance(thresholds, dict) else {}).items():
        tables.append((f"thresholds.{name}", value, DEFAULTS.get(name)))
    for name, endpoint in (endpoints if isinstance(endpoints, dict) else {}).items():
        if isinstance(endpoint, dict) and isinstance(endpoint.get("latency"), dict):
            tables.append((f"endpoints.{name}.latency", endpoint["latency"], None))
    for where, value, base in tables:
        if not isinstance(value, dict):
            continue  # already reported by the schema
        try:
            if base is not None:
                base.with_overrides(value)
            else:
                Threshold(**value)
        except (TypeError, ValueError) as exc:
            problems.append(f"{file}: environments.{env_name}.{where}: {exc}")


def _is_reference_run_file(include: str, include_path: Path) -> bool:
    """The include `python -m ilsref up` writes (run/local.toml under $ILSREF_HOME)."""
    return "ILSREF_HOME" in include or include_path.parts[-2:] == ("run", "local.toml")


def _pem_problem(path: Path) -> str | None:
    """Why the file is not a PEM bundle of X.509 certificates (parsed, not just named)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    from cryptography import x509

    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        return "holds a PEM block that is not a valid X.509 certificate"
    return None


@dataclass
class Collected:
    """Everything validated in one pass: the settings when valid, and every problem found."""

    path: Path
    raw: dict[str, Any]
    name: str | None
    data: dict[str, Any]
    secrets_source: dict[str, str]
    problems: list[str]

    @property
    def signoffs_path(self) -> Path:
        cutover = self.raw.get("cutover")
        shared = cutover.get("signoffs") if isinstance(cutover, dict) else None
        chosen = self.data.get("signoffs") or shared or "signoffs.toml"
        return self.path.parent / str(chosen)


def _environment(name: str, table: Any, selected: bool, path: Path, env: Mapping[str, str],
                 problems: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate one environment (own table, include, merged result); files and variables only
    for the selected one, since another machine runs the others."""
    file = str(path)
    key = f"environments.{name}"
    if not isinstance(table, dict):
        problems.append(f"{file}: {key}: found {schema.show(name, table)}; expected a table")
        return {}, {}
    schema.validate(table, schema.ENVIRONMENT, key, problems, file=file)
    data = dict(table)
    include = table.get("include")
    if isinstance(include, str) and include:
        include_path = path.parent / expand_vars(include, env)
        if selected or include_path.exists():
            found: list[str] = []
            included = _read_toml(include_path, f"{file}: {key}.include:", found)
            if included is None and not include_path.exists() and found and \
                    _is_reference_run_file(include, include_path):
                found[-1] += "; the reference deployment writes this file: run `python -m ilsref up` first"
            problems.extend(found)
            if included is not None:
                schema.validate(included, schema.ENVIRONMENT, key, problems, file=str(include_path))
                data = _deep_merge(included, {k: v for k, v in table.items() if k != "include"})
    if data is not table or not include:  # an include not read here may supply required keys
        schema.missing_required(data, schema.ENVIRONMENT, key, file, problems)
    _check_thresholds(name, data, problems, file)
    _check_plans(name, data, env if selected else {}, problems, file)
    if not selected:
        return data, {}

    secrets_source: dict[str, str] = {}
    env_file = data.get("env_file")
    if isinstance(env_file, str) and env_file:
        env_path = path.parent / expand_vars(env_file, env)
        try:
            secrets_source = read_dotenv(env_path)
        except FileNotFoundError:
            problems.append(f"{file}: {key}.env_file: {str(env_path)!r} does not exist")
        except UnicodeDecodeError:
            problems.append(f"{file}: {key}.env_file: {str(env_path)!r} is not UTF-8 text")
        except OSError as exc:
            problems.append(f"{file}: {key}.env_file: {str(env_path)!r} cannot be read: "
                            f"{exc.strerror or exc}")
    ca_bundle = data.get("ca_bundle")
    if isinstance(ca_bundle, str) and ca_bundle:
        ca_path = path.parent / expand_vars(ca_bundle, env)
        if not ca_path.is_file():
            problems.append(f"{file}: {key}.ca_bundle: {str(ca_path)!r} does not exist or is not "
                            f"a file; expected a PEM file of CA certificates")
        else:
            pem = _pem_problem(ca_path)
            if pem:
                problems.append(f"{file}: {key}.ca_bundle: {str(ca_path)!r} {pem}; expected a PEM "
                                f"file of CA certificates")
            data["ca_bundle"] = str(ca_path.resolve())

    for var in referenced_secret_vars(data):
        if not (env.get(var) or secrets_source.get(var)):
            problems.append(f"{file}: {key}: secret variable {var!r} is not set "
                            f"(export it, or put it in the env_file)")
    for (component, var_key), parse in schema.SECRET_FORMATS.items():
        table_ = data.get(component)
        named = table_.get(var_key) if isinstance(table_, dict) else None
        value = (env.get(named) or secrets_source.get(named)) if isinstance(named, str) else None
        problem = parse(value) if value else None
        if problem:
            problems.append(f"{file}: {key}.{component}.{var_key}: the value of ${named} is not "
                            f"usable: {problem} (value not shown)")
    window = env.get("CUTOVER_POST_LAUNCH_WINDOW")
    if window and not re.fullmatch(r"\d+[smhd]", window.strip()):
        problems.append(f"$CUTOVER_POST_LAUNCH_WINDOW={window!r}: expected a number and s, m, h or d "
                        f"(e.g. 1h, 24h, 7d)")
    return data, secrets_source


def _check_plans(name: str, data: dict[str, Any], env: Mapping[str, str], problems: list[str],
                 file: str) -> None:
    """The load plan (with $CUTOVER_LOAD_* for the selected environment) and the e2e profile,
    resolved offline as the checks will resolve them."""
    from pytest_cutover import e2e_profile
    from pytest_cutover.loadplan import PlanError, plan

    key = f"environments.{name}"
    load_table = data.get("load", {})
    if isinstance(load_table, dict):
        try:
            plan(load_table, env)
        except PlanError as exc:
            via = " (with $CUTOVER_LOAD_*)" if any(v.startswith("CUTOVER_LOAD_") for v in env) else ""
            problems.append(f"{file}: {key}.load{via}: {exc}")
        except (TypeError, ValueError, IndexError):
            pass  # a wrong type in the table is already reported by the schema
    e2e_table = data.get("e2e")
    if isinstance(e2e_table, dict):
        try:
            _, found = e2e_profile.resolve(e2e_table)
        except (TypeError, ValueError, AttributeError, KeyError):
            found = []  # a wrong shape is already reported by the schema
        problems.extend(f"{file}: {key}.{p}" for p in found
                        if f"{key}.{p.split(':')[0]}: unknown key" not in " ".join(problems))


def collect(config: Chosen, env_choice: Chosen, env: Mapping[str, str] | None = None) -> Collected:
    """Read and validate the config file and every environment in it; never raises."""
    env = os.environ if env is None else env
    problems: list[str] = []
    path = Path(config.value or "cutover.toml")
    raw = _read_toml(path, "config file", problems, f"(chosen by {config.source})")
    if raw is None:
        problems.append("point --cutover-config (or $CUTOVER_CONFIG, or ini cutover_config) at a "
                        "cutover.toml; see cutover.toml in the pytest-cutover repository")
        return Collected(path, {}, None, {}, {}, problems)
    file = str(path)
    cutover = raw.get("cutover", {})
    schema.validate(cutover, schema.TOP_LEVEL["cutover"], "cutover", problems, file=file)
    for key in sorted(set(raw) - set(schema.TOP_LEVEL)):
        hint = schema._closest(key, list(schema.TOP_LEVEL))
        problems.append(f"{file}: {key}: unknown top-level table" + (
            f" (did you mean {hint!r}?)" if hint else "; expected [cutover] and [environments.NAME]"))

    environments = raw.get("environments")
    if not isinstance(environments, dict) or not environments:
        problems.append(f"{file}: environments: no [environments.NAME] table is defined")
        return Collected(path, raw, None, {}, {}, problems)
    default = cutover.get("default_environment") if isinstance(cutover, dict) else None
    default = default if isinstance(default, str) else None  # another type: the schema says so
    name = env_choice.value or default
    source = env_choice.source if env_choice.value else f"[cutover] default_environment in {file}"
    known = ", ".join(sorted(environments))
    if not name:
        problems.append(f"no cutover environment selected; expected one of: {known} "
                        f"(set --cutover-env, $CUTOVER_ENV, ini cutover_env or "
                        f"[cutover] default_environment)")
    elif name not in environments:
        hint = schema._closest(str(name), list(environments))
        problems.append(f"unknown cutover environment {name!r} (chosen by {source})"
                        + (f"; did you mean {hint!r}?" if hint else "") + f"; expected one of: {known}")
        name = None

    data: dict[str, Any] = {}
    secrets_source: dict[str, str] = {}
    for env_name, table in environments.items():
        merged, found = _environment(env_name, table, env_name == name, path, env, problems)
        if env_name == name:
            data, secrets_source = merged, found
    return Collected(path, raw, name, data, secrets_source, problems)


def load(config: Chosen, env_choice: Chosen, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file, merge the environment's include, validate everything, or raise ConfigError."""
    env = os.environ if env is None else env
    found = collect(config, env_choice, env)
    if found.problems or found.name is None:
        raise ConfigError(found.problems or ["no cutover environment selected"])
    return settings_of(found, config, env_choice, env)


def settings_of(found: Collected, config: Chosen, env_choice: Chosen,
                env: Mapping[str, str]) -> Settings:
    assert found.name is not None  # noqa: S101 - only called for a valid collection
    return Settings(path=found.path, raw=found.raw,
                    sources={"config": config, "environment": env_choice},
                    environment=Environment(found.name, found.data, found.secrets_source, env))
