"""Redis 7 as ILS runs it for sessions, cache and rate limits: password, LRU, no persistence."""

from __future__ import annotations

import os
import secrets

import redis

from ilsref.faults import Fault
from ilsref.runtime import free_port, require_binary, wait_for_port
from ilsref.services.base import Context

FAULTS = (
    Fault("redis_down", "readiness/redis",
          "the app's Redis check cannot reach Redis (detailed health: redis down, degraded)"),
    Fault("redis_slow", "readiness/redis",
          "Redis answers the app's check in > 100 ms (detailed health: redis degraded)"),
    Fault("redis_no_auth", "readiness/redis",
          "Redis runs without a password", restart=True),
    Fault("redis_noeviction", "readiness/redis",
          "Redis runs with maxmemory-policy noeviction (writes fail when memory is full)",
          restart=True),
)

POLICY = "allkeys-lru"
MAXMEMORY = "256mb"

SERVICE = "redis"


def start(ctx: Context) -> None:
    binary = require_binary("redis-server", "redis-server")
    port = free_port()
    password = secrets.token_urlsafe(24)
    no_auth = "redis_no_auth" in ctx.faults
    conf = ctx.run.path / "redis.conf"
    lines = [
        "bind 127.0.0.1",
        f"port {port}",
        "save ''",
        "appendonly no",
        "daemonize no",
        f"maxmemory {MAXMEMORY}",
        f"maxmemory-policy {'noeviction' if 'redis_noeviction' in ctx.faults else POLICY}",
        f"dir {ctx.run.path}",
        # `redis_slow` makes the app's health check pay a real DEBUG SLEEP on the server.
        "enable-debug-command local",
    ]
    if not no_auth:
        lines.append(f"requirepass {password}")
    # The password is in this file: readable by the owner only.
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    process = ctx.run.spawn(SERVICE, [binary, str(conf)])
    wait_for_port(port, process=process)

    url = f"redis://127.0.0.1:{port}/0" if no_auth else f"redis://:{password}@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()
    ctx.facts.update(redis_port=port, redis_url=url)
    ctx.environment["redis"] = {
        "url_env": "CUTOVER_LOCAL_REDIS_URL", "require_auth": True, "min_version": "7.0",
        "maxmemory": MAXMEMORY, "maxmemory_policy": POLICY, "persistence": "none",
    }
    ctx.secrets["CUTOVER_LOCAL_REDIS_URL"] = url
