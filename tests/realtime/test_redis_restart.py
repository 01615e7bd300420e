"""A Redis restart under a live room (issue 10, item 2): a private redis-server, stopped and started.

Daphne keeps its sockets through the restart. Its channel layer's pooled publish connection is
dead afterwards (the first send used to fail and its event was dropped), and its subscription is
re-established about a second later (events published meanwhile are lost to every socket of the
process). The product retries the send, and gives every socket the current state once it is
subscribed again; a socket that connects while Redis is down gets a defined close the browser retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.conf import settings

from meetings import services as meeting_services
from meetings.models import LiveSession
from recordings.models import Recording
from tests.live.conftest import (
    LIVE_TIMINGS,
    LiveServer,
    RoomSocket,
    live_env,
    start_daphne,
    stop_process,
    wait_for_disconnects,
)
from tests.realtime.conftest import PrivateRedis, cookie, in_room

pytestmark = [pytest.mark.asyncio]

STARTING = "Recording will start momentarily, please wait"
ENDED_FOR_PARTICIPANTS = "The recording has completed"
RESYNCED_WITHIN = 10.0  # the subscriber retries every second; the resync follows at once


@pytest.fixture(scope="module")
def restartable(django_db_setup, tmp_path_factory) -> Iterator[tuple[PrivateRedis, LiveServer]]:
    """A Daphne on the test database whose Redis (channel layer, cache) is a private server."""
    tmp = tmp_path_factory.mktemp("restart")
    redis = PrivateRedis(tmp)
    redis.start()
    proc, server = start_daphne(live_env(REDIS_URL=redis.url()), tmp / "daphne.log")
    yield redis, server
    stop_process(proc)
    redis.stop()


@pytest.fixture
def server(restartable, transactional_db, settings) -> Iterator[LiveServer]:
    for name, value in LIVE_TIMINGS.items():
        setattr(settings, name, float(value))
    yield restartable[1]
    wait_for_disconnects()


@pytest.fixture
def redis(restartable) -> PrivateRedis:
    if restartable[0].proc is None:  # a test that failed with Redis down
        restartable[0].start()
    return restartable[0]


def fresh_state(ws: RoomSocket, after: int):
    """The first `state` message after the first `after` messages (the connect one is message 0)."""
    return ws.expect(
        lambda m: m.get("type") == "state" and ws.messages.index(m) >= after,
        timeout=RESYNCED_WITHIN,
    )


async def test_the_first_send_after_a_restart_is_delivered(server, redis, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(server, room, [demo.users["host"], demo.users["participant"]]) as (host, guest):
        # A send before the restart: Daphne's pooled publish connection exists (as in production).
        await host.send(type="start_recording", id=1)
        await guest.expect_notice(STARTING)
        await sync_to_async(redis.restart)()
        # Daphne's subscriber reconnects within about a second by itself (redis-py); this test is
        # about the publishing side, so it waits for that rather than for the resync's state.
        await asyncio.sleep(3)
        await host.send(type="stop_recording", id=2)
        await host.expect(lambda m: m.get("id") == 2)
        await guest.expect_notice(ENDED_FOR_PARTICIPANTS)  # the first send after the restart
    assert "could not send" not in server.log.read_text()


async def test_a_socket_kept_through_a_restart_gets_what_it_missed(server, redis, demo) -> None:
    """What changed while Redis was down reaches the socket as the current state (nothing is replayed)."""
    room = demo.rooms["single"]
    async with in_room(server, room, [demo.users["host"], demo.users["participant"]]) as (host, guest):
        await host.send(type="start_recording", id=1)
        ack = await host.expect_type("ack")
        seen = len(guest.messages)
        await sync_to_async(redis.stop)()
        # Meanwhile a worker moved the recording on; its event went nowhere.
        await sync_to_async(Recording.objects.filter(uid=ack["uid"]).update)(state="recording")
        await sync_to_async(redis.start)()
        state = await fresh_state(guest, seen)
        assert state["recording"]["uid"] == ack["uid"] and state["recording"]["state"] == "recording"
        assert state["role"] == "participant" and state["is_leader"] is False
        # Still subscribed to its groups: a later event arrives.
        await host.send(type="stop_recording", id=2)
        await guest.expect_notice(ENDED_FOR_PARTICIPANTS)


async def test_a_session_that_ended_while_redis_was_down_ends_for_the_socket(server, redis, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(server, room, [demo.users["participant"]]) as (guest,):
        await sync_to_async(redis.stop)()
        session = await sync_to_async(LiveSession.objects.get)(room=room, state="live")
        # Ended elsewhere (the sweep, another Daphne); its session_ended event was lost with Redis.
        await sync_to_async(meeting_services.end_session)(session=session, reason="ended_by_host")
        await sync_to_async(redis.start)()
        ended = await guest.expect_type("session_ended", timeout=RESYNCED_WITHIN)
        assert ended["reason"] == "ended_by_host"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(guest.ws.recv(), 5)
        assert guest.ws.close_code == 4000


async def test_joining_while_redis_is_down_gets_a_close_the_browser_retries(server, redis, demo) -> None:
    room = demo.rooms["single"]
    user_cookie = await cookie(demo.users["participant"])
    log_start = len(server.log.read_text())
    await sync_to_async(redis.stop)()
    try:
        async with RoomSocket(server, room.pk, user_cookie) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.ws.recv(), 15)
            assert ws.ws.close_code == 4013  # try again later: room.js reconnects with back-off
    finally:
        await sync_to_async(redis.start)()
    async with RoomSocket(server, room.pk, user_cookie) as ws:  # the retry, with Redis back
        await ws.expect_type("state")
    log = server.log.read_text()[log_start:]
    assert "Exception inside application" not in log and " 500 " not in log, log


@pytest.mark.asyncio
async def test_the_private_server_is_not_the_suites(restartable) -> None:
    assert restartable[0].url() != settings.REDIS_URL
