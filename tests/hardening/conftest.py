"""Shared helpers of the hostile-input tests: real Daphne processes, raw sockets, a running recording.

The live servers are `python -m config.daphne`, started the way tests/live starts them
(`start_daphne`, `live_env`), on this run's PostgreSQL database and Redis.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client

from meetings import services as meeting_services
from recordings import services
from recordings.models import Recording
from tests.library.conftest import base_mp4, cast, mp4_file, publish  # noqa: F401  (fixtures, for the tests here)
from tests.live.conftest import (  # noqa: F401  (live, live_server_process: fixtures, for the tests here)
    LiveServer,
    csrf_pair,
    live,
    live_env,
    live_server_process,
    make_webm,
    session_cookie,
    start_daphne,
    stop_process,
)


@dataclass
class OwnServer:
    """A Daphne of one test module: its address, its log and its process id (for /proc)."""

    server: LiveServer
    pid: int

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def log(self) -> Path:
        return self.server.log

    def log_text(self) -> str:
        return self.server.log.read_text(errors="replace")


@contextmanager
def own_server(tmp_path: Path, **env: str) -> Iterator[OwnServer]:
    """Start a Daphne with this run's database and `env` over the live defaults; stop it after."""
    proc, server = start_daphne(live_env(**env), tmp_path / "daphne.log")
    try:
        yield OwnServer(server=server, pid=proc.pid)
    finally:
        stop_process(proc)


@dataclass
class RawAnswer:
    status: int | None
    head: bytes
    body: bytes
    sent_body_bytes: int
    seconds: float

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


def raw_request(port: int, head: bytes, body: Iterable[bytes] = (), *, timeout: float = 15.0) -> RawAnswer:
    """Send `head`, then the pieces of `body` for as long as the server reads and has not answered.

    Returns the server's answer (status, head, body) and how many body bytes went out before it.
    A raw socket, not an HTTP client, so that a request can be malformed, incomplete or lying.
    """
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for piece in body:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # the server answered (or closed): stop sending, as a browser does
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        data = b""
        sock.settimeout(timeout)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data and _complete(data):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    head_part, _, body_part = data.partition(b"\r\n\r\n")
    status = None
    if head_part.startswith(b"HTTP/"):
        try:
            status = int(head_part.split(b" ", 2)[1])
        except (IndexError, ValueError):
            status = None
    return RawAnswer(status, head_part, body_part, sent, time.monotonic() - started)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return False


def open_files(pid: int) -> list[tuple[str, int]]:
    """(target, size) of every regular file the process holds open (deleted temp files included)."""
    found = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for entry in fd_dir.iterdir() if fd_dir.exists() else []:
        try:
            target = os.readlink(entry)
            stat = os.stat(entry)  # follows the link: the open file itself, even if unlinked
        except OSError:
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            found.append((target, stat.st_size))
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def server_errors_in(log: str) -> list[str]:
    """Lines of a server log that show a fault of ours: tracebacks and 5xx answers."""
    bad = []
    for line in log.splitlines():
        if "Traceback (most recent call last)" in line or "Exception inside application" in line:
            bad.append(line)
        elif '" 5' in line and ('"GET ' in line or '"POST ' in line or '"PUT ' in line):
            bad.append(line)
    return bad


# --- a recording that takes media -----------------------------------------------------------------


@pytest.fixture
def running(demo) -> Recording:
    """A live session of the single room with a recording running, started by the host."""
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    return recording


@pytest.fixture(scope="session")
def webm_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_webm(tmp_path_factory.mktemp("webm") / "seg.webm")


def signed_in(base_url: str, user, **headers: str) -> httpx.Client:
    """An HTTP client holding `user`'s session and a CSRF token, sending from `base_url`'s own pages."""
    token, csrf_cookie = csrf_pair()
    return httpx.Client(
        base_url=base_url,
        timeout=30,
        cookies={"sessionid": session_cookie(Client(), user), "csrftoken": csrf_cookie},
        headers={"X-CSRFToken": token, "Origin": base_url, **headers},
    )


def segment_url(recording: Recording, *, seq: int = 0, track: str = "camera-abc", rec_uid: str | None = None) -> str:
    return f"/rooms/{recording.room_id}/recordings/{rec_uid or recording.uid}/tracks/{track}/segments/{seq}"


def spool_files(root: Path | None = None) -> list[Path]:
    base = Path(root or settings.SPOOL_DIR)
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []
