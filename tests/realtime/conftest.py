"""Realtime reliability: role changes on open sockets, Redis restarts, two deployments on one
Redis, and hostile messages. Live tests run a real Daphne (tests/live/conftest.py) and real Redis
servers: the suite's one, or a private `redis-server` that a test stops and starts for real."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from scripts.redis_boot import bundled_redis_server, redis_answers
from tests.conftest import free_port
from tests.live.conftest import RoomSocket, live, live_server_process, session_cookie  # noqa: F401 (fixtures)


def redis_server_binary() -> str:
    return shutil.which("redis-server") or bundled_redis_server()


class PrivateRedis:
    """A redis-server of this test's own on a free port, which the test may stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while not redis_answers(self.url(), timeout=0.3):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server (every client connection drops), optionally stay down, start it again empty."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def cookie(user) -> str:
    return await sync_to_async(session_cookie)(Client(), user)


@asynccontextmanager
async def in_room(server, room, users) -> AsyncIterator[list[RoomSocket]]:
    """Sockets for these people in the room, each past its initial state message."""
    async with AsyncExitStack() as stack:
        sockets = []
        for user in users:
            ws = await stack.enter_async_context(RoomSocket(server, room.pk, await cookie(user)))
            await ws.expect_type("state")
            sockets.append(ws)
        yield sockets


async def drain(ws: RoomSocket, seconds: float) -> None:
    """Read whatever arrives for a while (into ws.messages): RoomSocket reads only when asked."""
    with pytest.raises(AssertionError, match="no matching message"):
        await ws.expect(lambda m: False, timeout=seconds)
