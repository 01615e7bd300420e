"""The websocket stack refuses people who may not be in the room, before accept."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application


async def connect(path: str, cookie: str | None = None) -> tuple[bool, object]:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected, detail


def session_cookie(client, user) -> str:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anonymous_websocket_is_refused(demo) -> None:
    connected, code = await connect(f"/ws/rooms/{demo.rooms['single'].pk}/")
    assert connected is False and code == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_member_is_accepted_and_outsider_refused(demo, client) -> None:
    from asgiref.sync import sync_to_async

    room_path = f"/ws/rooms/{demo.rooms['single'].pk}/"
    outsider = await sync_to_async(session_cookie)(client, demo.users["outsider"])
    assert (await connect(room_path, outsider))[0] is False
    participant = await sync_to_async(session_cookie)(client, demo.users["participant"])
    assert (await connect(room_path, participant))[0] is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_foreign_origin_is_refused(demo, client) -> None:
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(session_cookie)(client, demo.users["host"])
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{demo.rooms['single'].pk}/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"localhost"), (b"cookie", cookie.encode())],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected is False
