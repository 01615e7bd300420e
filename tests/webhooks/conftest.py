"""A real HTTP receiver on loopback that verifies every delivery with the `standardwebhooks` library."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: dict[str, Any] | None  # the payload, when a known secret verified the signature

    @property
    def type(self) -> str | None:
        return self.verified["type"] if self.verified else None


@dataclass
class Receiver:
    """Answers each POST with the next planned (status, delay) (200 when none is left) and keeps it."""

    url: str
    secrets: list[str] = field(default_factory=list)
    plan: list[tuple[int, float]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
        return None

    def of_type(self, event_type: str) -> list[Received]:
        return [hit for hit in self.received if hit.type == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            with state.lock:
                state.received.append(Received(headers=headers, body=body, verified=state.verify(body, headers)))
                status, delay = state.plan.pop(0) if state.plan else (200, 0.0)
            if delay:
                time.sleep(delay)
            try:
                answer = f'{{"answer": {status}}}'.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the sender gave up waiting (a timeout test)
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    """Loopback receivers allowed (SSRF guard off for the tests), a short timeout, a short schedule."""
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_SITE_URL = "https://meetings.example.test"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return settings
