"""Ingest through the real ASGI application in process (the router Daphne serves).

Its database work per segment stays small: it runs on the database thread that serves every
websocket (SQL statements of every connection in every thread are counted). And behind a
TLS-terminating proxy, the origin check sees the scheme the browser used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import Client

from config.asgi import application
from meetings import services as meeting_services
from meetings.models import Room
from recordings import services
from recordings.models import Recording, Segment
from tests.live.conftest import csrf_pair, make_webm, session_cookie

BASE = "http://testserver"


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement run while the test runs, on any thread's connection."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):  # noqa: ANN001 - Django's execute_wrapper signature
        seen.append(sql)
        return execute(sql, params, many, context)

    def install(sender, connection, **kwargs) -> None:  # noqa: ANN001
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(install)
    for conn in connections.all(initialized_only=True):
        install(None, conn)
    yield seen
    connection_created.disconnect(install)
    for conn in connections.all(initialized_only=True):
        if wrapper in conn.execute_wrappers:
            conn.execute_wrappers.remove(wrapper)


@dataclass
class Sender:
    """A recording running in the single room, and a participant's cookies and CSRF token."""

    room: Room
    recording: Recording
    body: bytes
    token: str
    cookies: dict[str, str]


@pytest.fixture
def sender(demo, tmp_path) -> Sender:
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    token, csrf_cookie = csrf_pair()
    cookies = {"sessionid": session_cookie(Client(), demo.users["participant"]), "csrftoken": csrf_cookie}
    return Sender(room, recording, make_webm(tmp_path / "a.webm"), token, cookies)


@pytest.mark.django_db(transaction=True)
def test_a_segment_costs_a_handful_of_statements(sender: Sender, statements: list[str]) -> None:
    room, recording, body, cookies = sender.room, sender.recording, sender.body, sender.cookies
    headers = {"X-CSRFToken": sender.token, "Origin": BASE, "X-Track-Kind": "camera"}

    async def upload_three() -> list[tuple[int, int]]:
        out = []
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies, headers=headers) as client:
            for seq in range(3):
                before = len(statements)
                response = await client.put(
                    f"/rooms/{room.pk}/recordings/{recording.uid}/tracks/camera-x/segments/{seq}", content=body
                )
                out.append((response.status_code, len(statements) - before))
        return out

    results = asyncio.run(upload_three())
    assert [status for status, _ in results] == [201, 201, 201]
    assert Segment.objects.filter(track__recording=recording).count() == 3
    # Steady state (the track exists, the recording is capturing): session, user, recording,
    # role (one query), previous segment, track, then the INSERT in its transaction, and at most
    # one UPDATE re-opening composed windows. Through Django's view and middleware it was 17.
    steady = [count for _, count in results[1:]]
    assert max(steady) <= 9, statements[-steady[-1] :]


@pytest.mark.django_db(transaction=True)
def test_origin_check_follows_the_proxy_header(sender: Sender, settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = f"/rooms/{sender.room.pk}/recordings/{sender.recording.uid}/tracks/camera-x/segments/0"

    async def put(**headers: str) -> int:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=sender.cookies) as client:
            response = await client.put(url, content=sender.body, headers={"X-CSRFToken": sender.token, **headers})
            return response.status_code

    # The browser is on https://testserver; the proxy talks plain HTTP to Daphne.
    assert asyncio.run(put(Origin="https://testserver")) == 403  # no header: not our origin
    assert asyncio.run(put(Origin="https://testserver", **{"X-Forwarded-Proto": "http"})) == 403
    assert asyncio.run(put(Origin="http://testserver", **{"X-Forwarded-Proto": "https"})) == 403
    assert asyncio.run(put(Origin="https://testserver", **{"X-Forwarded-Proto": "https"})) == 201


@pytest.mark.django_db(transaction=True)
def test_a_client_that_goes_away_mid_body_leaves_nothing(sender: Sender) -> None:
    """Daphne tells the app the client disconnected before the body ended: no file, no row, no reply."""
    from asgiref.testing import ApplicationCommunicator
    from django.conf import settings as django_settings

    path = f"/rooms/{sender.room.pk}/recordings/{sender.recording.uid}/tracks/camera-x/segments/0"
    cookie = "; ".join(f"{k}={v}" for k, v in sender.cookies.items())
    scope = {
        "type": "http",
        "method": "PUT",
        "path": path,
        "scheme": "http",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"origin", BASE.encode()),
            (b"x-csrftoken", sender.token.encode()),
            (b"cookie", cookie.encode()),
            (b"content-length", str(len(sender.body)).encode()),
        ],
    }

    async def run() -> list[dict]:
        app = ApplicationCommunicator(application, scope)
        await app.send_input({"type": "http.request", "body": sender.body[:1000], "more_body": True})
        await app.send_input({"type": "http.disconnect"})
        await app.wait(timeout=10)
        out = []
        while not app.output_queue.empty():
            out.append(await app.receive_output())
        return out

    assert asyncio.run(run()) == []
    assert not Segment.objects.exists()
    mine = Path(django_settings.SPOOL_DIR) / str(sender.recording.uid)
    assert not mine.exists() or not [p for p in mine.rglob("*") if p.is_file()]  # not even a temp file
