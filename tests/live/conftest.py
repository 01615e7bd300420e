"""A real Daphne process on the test database and the real Redis channel layer.

Live tests drive it with real websockets, HTTP and (browser tests) Chromium. Durations that
SPEC.md gives in minutes are shortened through settings, the way an operator would set them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

LIVE_TIMINGS = {
    "HOST_LEFT_TIMEOUT_SECONDS": "4",
    "PRESENCE_TTL_SECONDS": "3",
    "HEARTBEAT_SECONDS": "1",
    "STOP_GRACE_SECONDS": "2",
    "SEGMENT_SECONDS": "4",
    # Tasks run eagerly here: a window scheduled by an upload would be composed inside that upload,
    # on the thread every socket's database work shares. The sweep and finalize compose instead.
    "COMPOSE_FROM_INGEST": "0",
}


@dataclass
class LiveServer:
    url: str
    port: int
    log: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_daphne(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, LiveServer]:
    """A Daphne process on a free port with this environment, once it answers (its output in `log`)."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", port=port, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/login/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail("Daphne exited:\n" + log.read_text())
    return proc, server


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def live_env(**overrides: str) -> dict[str, str]:
    """The environment of a Daphne serving this test run (its database, files and namespace)."""
    return (
        dict(
            os.environ,
            DATABASE_URL=database_url(),
            DJANGO_SETTINGS_MODULE="config.settings_test",
            TEST_RUN_DIR=str(settings.TEST_RUN_DIR),
            REDIS_URL=settings.REDIS_URL,
            **LIVE_TIMINGS,
        )
        | overrides
    )


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    proc, server = start_daphne(live_env(), log)
    yield server
    stop_process(proc)


def wait_for_disconnects(timeout: float = 5.0) -> None:
    """Let Daphne finish the closes of the test's sockets before the test database is flushed.

    Daphne handles a close after the client has gone; its writes (the presence, the host-left
    deadline) meeting pytest-django's TRUNCATE of every table deadlocked now and then.
    """
    from meetings.models import Presence

    deadline = time.monotonic() + timeout
    waited = False
    while Presence.objects.exists() and time.monotonic() < deadline:
        waited = True
        time.sleep(0.05)
    if waited:
        time.sleep(0.1)  # the deadline update that follows a presence's delete


@pytest.fixture
def live(live_server_process, transactional_db, settings) -> Iterator[LiveServer]:
    """The running server, with this process's settings matched to its timings."""
    for name, value in LIVE_TIMINGS.items():
        setattr(settings, name, float(value))
    yield live_server_process
    wait_for_disconnects()


def session_cookie(client, user) -> str:
    client.force_login(user)
    return client.cookies["sessionid"].value


def csrf_pair() -> tuple[str, str]:
    """A CSRF cookie value and the same token, as a browser holds them."""
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    return token, token


class RoomSocket:
    """A test participant's websocket to a room, as the browser would hold it."""

    def __init__(self, server: LiveServer, room_id: int, cookie: str) -> None:
        self.server, self.room_id, self.cookie = server, room_id, cookie
        self.messages: list[dict] = []
        self.ws = None

    async def __aenter__(self) -> RoomSocket:
        import websockets

        self.ws = await websockets.connect(
            f"{self.server.ws_url}/ws/rooms/{self.room_id}/",
            origin=websockets.Origin(self.server.url),
            additional_headers={"Cookie": f"sessionid={self.cookie}"},
            open_timeout=10,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, **message: object) -> None:
        import json

        await self.ws.send(json.dumps(message))

    async def expect(self, predicate, timeout: float = 10.0) -> dict:
        """The first message (already received or arriving) that matches."""
        import asyncio
        import json

        for message in self.messages:
            if predicate(message):
                return message
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            remaining = end - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no matching message within {timeout}s; got {self.messages}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except TimeoutError:
                continue
            message = json.loads(raw)
            self.messages.append(message)
            if predicate(message):
                return message

    async def expect_type(self, type_: str, timeout: float = 10.0) -> dict:
        return await self.expect(lambda m: m.get("type") == type_, timeout)

    async def expect_notice(self, text: str, timeout: float = 10.0) -> dict:
        return await self.expect(lambda m: m.get("type") == "notice" and m.get("text") == text, timeout)

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("type") == "notice"]


def make_webm(path: Path, *, seconds: float = 1.0, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small real VP8/Opus WebM, as a browser's MediaRecorder would send."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="webm") as container:
        video = container.add_stream("libvpx", rate=20)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        audio = container.add_stream("libopus", rate=48000)
        audio.layout = "mono"
        frame_rgb = np.zeros((120, 160, 3), dtype=np.uint8)
        frame_rgb[:] = color
        for i in range(int(seconds * 20)):
            frame = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        samples = int(seconds * 48000)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
        for start in range(0, samples, 960):
            chunk = tone[start : start + 960]
            if len(chunk) < 960:
                break
            aframe = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            aframe.sample_rate = 48000
            aframe.pts = start
            for packet in audio.encode(aframe):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    return path.read_bytes()
