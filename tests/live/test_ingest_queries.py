"""Ingest's database work per segment stays small: it runs on the database thread that serves every websocket.

Through the real ASGI application in process (the same router Daphne serves), counting the SQL
statements of every connection in every thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from django.db.backends.signals import connection_created
from django.db import connections
from django.test import Client

from config.asgi import application
from meetings import services as meeting_services
from recordings import services
from recordings.models import Segment
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


@pytest.mark.django_db(transaction=True)
def test_a_segment_costs_a_handful_of_statements(demo, tmp_path, statements) -> None:
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    body = make_webm(tmp_path / "a.webm")
    token, csrf_cookie = csrf_pair()
    cookies = {"sessionid": session_cookie(Client(), demo.users["participant"]), "csrftoken": csrf_cookie}
    headers = {"X-CSRFToken": token, "Origin": BASE, "X-Track-Kind": "camera"}

    async def upload_three() -> list[tuple[int, int]]:
        out = []
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookies, headers=headers) as client:
            for seq in range(3):
                before = len(statements)
                response = await client.put(
                    f"/rooms/{room.pk}/recordings/{recording.uid}/tracks/camera-x/segments/{seq}", content=body)
                out.append((response.status_code, len(statements) - before))
        return out

    results = asyncio.run(upload_three())
    assert [status for status, _ in results] == [201, 201, 201]
    assert Segment.objects.filter(track__recording=recording).count() == 3
    # Steady state (the track exists, the recording is capturing): session, user, recording,
    # role (one query), previous segment, track, then the INSERT in its transaction, and at most
    # one UPDATE re-opening composed windows. Through Django's view and middleware it was 17.
    steady = [count for _, count in results[1:]]
    assert max(steady) <= 9, statements[-steady[-1]:]
