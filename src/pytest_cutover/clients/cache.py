"""Redis facts over redis-py (imported lazily): INFO sections, configuration, authentication.

Returns facts, never asserts. Every client has connect and socket timeouts and no retries. A
server that cannot be reached raises `CacheUnavailable` with a one-line reason; the password in
the URL is never part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class CacheUnavailable(RuntimeError):
    """Redis could not be asked (connection, authentication, timeout)."""


@dataclass(frozen=True)
class RedisFacts:
    info: dict[str, Any]  # INFO server, memory, persistence, stats merged
    config: dict[str, str]  # CONFIG GET results; empty when CONFIG is disabled (managed Redis)

    @property
    def version(self) -> str:
        return str(self.info.get("redis_version", ""))

    @property
    def maxmemory(self) -> int:
        return int(self.info.get("maxmemory") or self.config.get("maxmemory") or 0)

    @property
    def used_memory(self) -> int:
        return int(self.info.get("used_memory", 0))

    @property
    def policy(self) -> str:
        return str(self.info.get("maxmemory_policy") or self.config.get("maxmemory-policy", ""))

    @property
    def persistence(self) -> str:
        """'none', 'rdb', 'aof' or 'rdb+aof', from the server's configuration."""
        rdb = bool(self.config.get("save", "").strip()) if "save" in self.config else None
        aof = bool(int(self.info.get("aof_enabled", 0)))
        kinds = [name for name, on in (("rdb", rdb), ("aof", aof)) if on]
        return "+".join(kinds) or "none"

    @property
    def evicted_keys(self) -> int:
        return int(self.info.get("evicted_keys", 0))

    @property
    def lookups(self) -> tuple[int, int]:
        return int(self.info.get("keyspace_hits", 0)), int(self.info.get("keyspace_misses", 0))


def _client(url: str, timeout_s: float) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                retry_on_timeout=False, retry=None)


def facts(url: str, timeout_s: float = 5.0) -> RedisFacts:
    import redis

    client = _client(url, timeout_s)  # connects lazily, on the first command
    try:
        info: dict[str, Any] = {}
        for section in ("server", "memory", "persistence", "stats"):
            info.update(client.info(section))
        try:
            config = {str(k): str(v) for k, v in client.config_get("*").items()}
        except redis.ResponseError:  # CONFIG renamed or disabled by the provider
            config = {}
        return RedisFacts(info, config)
    except redis.RedisError as exc:
        raise CacheUnavailable(f"{type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        client.close()


def without_password(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def anonymous_access(url: str, timeout_s: float = 5.0) -> str:
    """What a client without credentials gets from the server of `url`: 'refused' (NOAUTH or
    authentication error), 'accepted' (PING answered), or 'error: ...' (could not tell)."""
    import redis

    client = _client(without_password(url), timeout_s)
    try:
        client.ping()
        return "accepted"
    except redis.AuthenticationError:
        return "refused"
    except redis.ResponseError as exc:
        return "refused" if "NOAUTH" in str(exc).upper() else f"error: {_first_line(exc)}"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}: {_first_line(exc)}"
    finally:
        client.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "no message"
