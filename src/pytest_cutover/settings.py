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

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return f"cutover configuration error: {self.problems[0]}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"cutover configuration has {len(self.problems)} problems:\n{lines}"


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
    for raw in path.read_text().splitlines():
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


def _read_toml(path: Path, what: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"{what} {str(path)!r} does not exist")
    except IsADirectoryError:
        problems.append(f"{what} {str(path)!r} is a directory, not a TOML file")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{what} {str(path)!r} is not valid TOML: {exc}")
    return None


def _check_thresholds(env_name: str, data: dict[str, Any], problems: list[str]) -> None:
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
            problems.append(f"environments.{env_name}.{where}: {exc}")


def load(config: Chosen, env_choice: Chosen, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file, merge the environment's include, validate everything, or raise ConfigError."""
    env = os.environ if env is None else env
    problems: list[str] = []
    path = Path(config.value or "cutover.toml")
    raw = _read_toml(path, "config file", problems)
    if raw is None:
        raise ConfigError([
            *problems,
            "point --cutover-config (or CUTOVER_CONFIG) at a cutover.toml; see cutover.toml in "
            "the pytest-cutover repository for an example"])

    environments = raw.get("environments")
    if not isinstance(environments, dict) or not environments:
        raise ConfigError([f"{path}: no [environments.NAME] table is defined"])
    name = env_choice.value or raw.get("cutover", {}).get("default_environment")
    if not name:
        raise ConfigError([f"no cutover environment selected; expected one of: "
                           f"{', '.join(sorted(environments))} (set --cutover-env or CUTOVER_ENV)"])
    if name not in environments:
        raise ConfigError([f"unknown cutover environment {name!r}; expected one of: "
                           f"{', '.join(sorted(environments))} (set --cutover-env or CUTOVER_ENV)"])

    data = dict(environments[name]) if isinstance(environments[name], dict) else {}
    base_dir = path.parent
    include = data.get("include")
    if isinstance(include, str):
        include_path = base_dir / expand_vars(include, env)
        included = _read_toml(include_path, f"environments.{name}.include", problems)
        if included is None and not include_path.exists():
            problems.append(f"environments.{name}.include: for the local reference deployment run "
                            f"`python -m ilsref up` first")
        if included is not None:
            data = _deep_merge(included, {k: v for k, v in data.items() if k != "include"})

    schema.validate(raw.get("cutover", {}), schema.TOP_LEVEL["cutover"], "cutover", problems)
    unknown_top = sorted(set(raw) - set(schema.TOP_LEVEL))
    problems.extend(f"{key}: unknown top-level table" for key in unknown_top)
    schema.validate(data, schema.ENVIRONMENT, f"environments.{name}", problems)

    kind = data.get("kind")
    if kind is None:
        problems.append(f"environments.{name}.kind: missing (one of {', '.join(schema.KINDS)})")
    elif kind not in schema.KINDS:
        problems.append(f"environments.{name}.kind: {kind!r} is not one of {', '.join(schema.KINDS)}")
    if "base_url" not in data:
        problems.append(f"environments.{name}.base_url: missing (the URL users open, e.g. "
                        f"https://ils.example.com)")
    _check_thresholds(name, data, problems)

    secrets_source: dict[str, str] = {}
    env_file = data.get("env_file")
    if isinstance(env_file, str):
        env_path = base_dir / expand_vars(env_file, env)
        if env_path.is_file():
            secrets_source = read_dotenv(env_path)
        else:
            problems.append(f"environments.{name}.env_file: {str(env_path)!r} does not exist")
    ca_bundle = data.get("ca_bundle")
    if isinstance(ca_bundle, str):
        ca_path = base_dir / expand_vars(ca_bundle, env)
        if not ca_path.is_file():
            problems.append(f"environments.{name}.ca_bundle: {str(ca_path)!r} does not exist")
        else:
            data["ca_bundle"] = str(ca_path.resolve())

    for var in referenced_secret_vars(data):
        if not (env.get(var) or secrets_source.get(var)):
            problems.append(f"environments.{name}: secret variable {var!r} is not set "
                            f"(export it, or put it in the env_file)")

    if problems:
        raise ConfigError(problems)
    return Settings(path=path, raw=raw, sources={"config": config, "environment": env_choice},
                    environment=Environment(name, data, secrets_source, env))
