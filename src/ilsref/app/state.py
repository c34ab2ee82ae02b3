"""What every handler reaches through `request.app.state.ils`."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from ilsref.app.config import AppConfig
from ilsref.app.db import Database
from ilsref.app.version import VersionSource
from ilsref.faults import FaultState

REDIS_TIMEOUT_S = 2.0


@dataclass
class AppState:
    config: AppConfig
    faults: FaultState
    db: Database
    redis: aioredis.Redis
    # `redis_down` points the health check here: a port bound but never listening refuses
    # connections, and no other program can take it meanwhile.
    dead_redis: aioredis.Redis
    versions: VersionSource
    started: float = field(default_factory=time.monotonic)
    _dead_port_holder: socket.socket | None = None

    @classmethod
    def build(cls, config: AppConfig) -> AppState:
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        holder.bind(("127.0.0.1", 0))
        dead_port = holder.getsockname()[1]
        return cls(
            config=config,
            faults=FaultState(config.faults_file),
            db=Database(config.database_url),
            redis=aioredis.Redis.from_url(config.redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                          socket_connect_timeout=REDIS_TIMEOUT_S),
            dead_redis=aioredis.Redis(host="127.0.0.1", port=dead_port, socket_timeout=0.5,
                                      socket_connect_timeout=0.5, retry_on_timeout=False),
            versions=VersionSource(config.version_file, config.release),
            _dead_port_holder=holder,
        )

    def fault(self, name: str) -> bool:
        return name in self.faults

    def uptime(self) -> float:
        return round(time.monotonic() - self.started, 3)

    async def close(self) -> None:
        await self.db.close()
        await self.redis.aclose()
        await self.dead_redis.aclose()
        if self._dead_port_holder is not None:
            self._dead_port_holder.close()
