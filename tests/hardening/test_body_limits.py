"""Request-body limits in the server layer (item 12), against a real Daphne (`python -m config.daphne`).

Daphne reads a whole body (into memory, or a temp file past 100 kB) before the application sees
it, so the limit must act as the bytes arrive: a declared length over the route's limit gets
413 before any body is sent; a body without a declared length is counted and cut off with 413.
Raw sockets, so that a request can declare what it likes and stop when the server answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from media_library import conf as media_conf
from tests.hardening.conftest import OwnServer, open_files, own_server, raw_request, rss_bytes

INGEST = "/rooms/1/recordings/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa/tracks/camera-x/segments/0"
MB = 1000 * 1000


@pytest.fixture(scope="module")
def server_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's own temp dir (TMPDIR), so what it leaves there is its own."""
    return tmp_path_factory.mktemp("limits-tmp")


@pytest.fixture(scope="module")
def server(tmp_path_factory, server_tmp: Path, django_db_setup, django_db_blocker) -> Iterator[OwnServer]:
    with own_server(tmp_path_factory.mktemp("limits"), TMPDIR=str(server_tmp)) as own:
        yield own


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(
    "method,path,declared",
    [
        ("PUT", INGEST, 70 * MB),  # over SEGMENT_MAX_BYTES (64 MiB)
        ("POST", "/login/", 1024**3),  # 1 GiB to the sign-in page
        ("POST", "/login/", 3 * MB),  # over REQUEST_BODY_MAX_BYTES (2.5 MiB)
        ("POST", "/no/such/page/", 70 * MB),
        ("POST", "/rooms/1/media/", None),  # over the upload limit plus multipart overhead
    ],
)
def test_a_declared_oversize_body_gets_413_before_it_is_sent(server, method, path, declared) -> None:
    declared = declared or media_conf.upload_request_max_bytes() + 1
    answer = raw_request(server.port, head(method, path, f"Content-Length: {declared}"), timeout=10)
    assert answer.status == 413, answer.head
    assert answer.seconds < 5  # answered from the headers alone: the body was never sent
    assert answer.header("Connection") == "close"
    if path == INGEST:
        assert b'"ok": false' in answer.body and str(settings.SEGMENT_MAX_BYTES).encode() in answer.body
    else:
        assert b"Request too large" in answer.body


def test_expect_100_continue_gets_413_and_no_continue(server) -> None:
    answer = raw_request(server.port, head("POST", "/login/", "Content-Length: 70000000", "Expect: 100-continue"))
    assert answer.status == 413, answer.head
    assert b"100 Continue" not in answer.head + answer.body


class Watcher(threading.Thread):
    """Samples the server's open files and memory while a request is sent."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.largest_file, self.peak_rss = pid, 0, rss_bytes(pid)
        self.files: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for target, size in open_files(self.pid):
                self.largest_file = max(self.largest_file, size)
                self.files.add(target)
            self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))
            time.sleep(0.01)


def chunked(total: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    data = b"x" * piece
    for _ in range(total // piece):
        yield b"%x\r\n" % piece + data + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.parametrize(
    "method,path,limit_setting",
    [("POST", "/login/", "REQUEST_BODY_MAX_BYTES"), ("PUT", INGEST, "SEGMENT_MAX_BYTES")],
)
def test_a_body_without_length_is_cut_off_at_the_limit_and_nothing_grows(server, method, path, limit_setting):
    limit = int(getattr(settings, limit_setting))
    total = limit + 64 * MB  # far more than allowed, sent as a chunked body (no Content-Length)
    watcher = Watcher(server.pid)
    watcher.start()
    rss_before = rss_bytes(server.pid)
    try:
        answer = raw_request(server.port, head(method, path, "Transfer-Encoding: chunked"), chunked(total), timeout=20)
        time.sleep(0.3)
    finally:
        watcher.done.set()
        watcher.join()
    assert answer.status == 413, answer.head
    assert answer.sent_body_bytes < total  # cut off: the server stopped taking it
    # The part received before the limit was held (a temp file) and let go: never more than the limit,
    # and nothing of it left open afterwards. Before the fix the whole body went to a temp file.
    assert watcher.largest_file <= limit + 1024 * 1024, (watcher.largest_file, watcher.files)
    assert all(size < 1024 * 1024 for _, size in open_files(server.pid))
    assert watcher.peak_rss - rss_before < 48 * MB, (watcher.peak_rss, rss_before)
    assert "Traceback" not in server.log_text()


def test_bodies_within_the_limits_still_work(server) -> None:
    """A form of 1 MB and a small chunked body reach Django (here: refused for their CSRF token)."""
    body = b"username=x&password=" + b"y" * MB
    answer = raw_request(
        server.port,
        head("POST", "/login/", f"Content-Length: {len(body)}", "Content-Type: application/x-www-form-urlencoded"),
        [body],
    )
    assert answer.status == 403, answer.head  # Django's CSRF check: the body got through
    small = raw_request(
        server.port, head("POST", "/login/", "Transfer-Encoding: chunked"), [b"5\r\nhello\r\n0\r\n\r\n"]
    )
    assert small.status == 403, small.head
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/login/").status_code == 200


def test_no_temp_file_is_left_in_the_servers_temp_dir(server, server_tmp: Path) -> None:
    """After all of the above, the server's temp dir holds nothing (Daphne's temp files are unlinked
    at once on Linux, so their size is watched through /proc above; a named one would show here)."""
    leftovers = [p for p in server_tmp.rglob("*") if p.is_file()]
    assert leftovers == []
