"""Many sockets joining at once (rooms/joins.py): each is let in or refused as alone, in shared database trips.

Over a real Daphne: 40 invitees, the host, an outsider, an inactive invitee and an anonymous socket
connect in the same moment. Everyone allowed gets their own state with their own role and a presence
row; the three others are refused with 4403 before accept; the clock replies every socket sends on
joining are all recorded.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.test import Client
from websockets.exceptions import InvalidMessage, InvalidStatus

from meetings.models import LiveSession, Presence, User
from tests.live.conftest import session_cookie

pytestmark = [pytest.mark.asyncio]
INVITEES = 40


def invite_many(room) -> list[User]:
    people = [
        User.objects.create_user(username=f"storm-{i}", password="x", display_name=f"Storm {i}")
        for i in range(INVITEES)
    ]
    room.invitees.add(*people)
    return people


async def join(live, room_id: int, cookie: str | None) -> tuple[object, dict | None, int | None]:
    """(the open socket, its state, None) once let in and its clock reply sent; (None, None, HTTP status) if refused.

    As room.js does, a failed handshake is tried again (on a loaded machine Daphne's 5-second handshake
    time-out may close one, answering 403 too): only a socket refused every time counts as refused.
    """
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    status = None
    for attempt in range(5):
        try:
            ws = await websockets.connect(
                f"{live.ws_url}/ws/rooms/{room_id}/",
                origin=websockets.Origin(live.url),
                additional_headers=headers,
                open_timeout=60,
            )
            break
        except InvalidStatus as refused:
            status = refused.response.status_code
        except (InvalidMessage, OSError):
            status = None
        await asyncio.sleep(0.5 * (attempt + 1))
    else:
        return None, None, status
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if message["type"] == "state":  # also the first clock probe: answered as socket.js does
            reply = {"type": "clock_reply", "server_time": message["server_time"], "client_time": 1000.0}
            await ws.send(json.dumps(reply))
            return ws, message, None


async def test_a_crowd_joining_at_once_is_each_let_in_or_refused_as_alone(live, demo) -> None:
    room = demo.rooms["single"]
    people = await sync_to_async(invite_many)(room)
    inactive = people.pop()
    inactive.is_active = False
    await sync_to_async(inactive.save)()
    cookies = [await sync_to_async(session_cookie)(Client(), user) for user in people]
    host = await sync_to_async(session_cookie)(Client(), demo.users["host"])
    outsider = await sync_to_async(session_cookie)(Client(), demo.users["outsider"])
    asleep = await sync_to_async(session_cookie)(Client(), inactive)

    crowd = [join(live, room.pk, cookie) for cookie in [host, *cookies, outsider, asleep, None]]
    results = await asyncio.gather(*crowd)
    try:
        await check_the_crowd(room, demo, people, [(state, status) for _, state, status in results])
    finally:
        await asyncio.gather(*(ws.close() for ws, _, _ in results if ws is not None))


async def check_the_crowd(room, demo, people: list[User], results: list[tuple[dict | None, int | None]]) -> None:
    host_state, *invitee_results = [state for state, _ in results[: len(people) + 1]]
    assert host_state is not None and host_state["role"] == "host" and host_state["is_leader"] is True
    assert all(state is not None and state["role"] == "participant" for state in invitee_results), invitee_results
    assert {state["user_id"] for state in invitee_results} == {user.pk for user in people}
    assert len({state["session"]["id"] for state in [host_state, *invitee_results]}) == 1, "one session for all"
    assert [status for _, status in results[1 + len(people) :]] == [403, 403, 403]  # outsider, inactive, anonymous

    session = await sync_to_async(LiveSession.objects.open().get)(room=room)

    def presences() -> list[tuple[int, float | None]]:
        return list(Presence.objects.filter(session=session).values_list("user_id", "clock_offset"))

    # The clock replies are stored a moment after they were sent.
    for _ in range(100):
        rows = await sync_to_async(presences)()
        if all(offset is not None for _, offset in rows):
            break
        await asyncio.sleep(0.2)
    assert sorted(user_id for user_id, _ in rows) == sorted([demo.users["host"].pk, *(user.pk for user in people)])
    # Every socket's clock reply (client clock at 1 s) was stored: offset = server time - 1 s, so large.
    assert all(offset is not None and offset > 1_000_000 for _, offset in rows), rows
