"""The room over the real ASGI stack (a Daphne process) and the real Redis channel layer."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from meetings import deadlines as session_deadlines
from meetings import services as meeting_services
from meetings.models import LiveSession, Presence
from recordings import deadlines as recording_deadlines
from recordings.models import Recording
from tests.live.conftest import RoomSocket, session_cookie

# SPEC.md's words, spelled out here so the test checks the product against the spec, not itself.
ENDED_FOR_LEADERS = "Recording ended, starting upload"
ENDED_FOR_PARTICIPANTS = "The recording has completed"
CAP_REACHED = "The recording reached its 24-hour limit and was stopped automatically."
NO_MEDIA = "The recording could not start: no camera, microphone or screen media reached the server in time."
BROADCAST_LIVE = "The broadcast is live."

pytestmark = [pytest.mark.asyncio]

STARTING = "Recording will start momentarily, please wait"


async def cookie(user) -> str:
    return await sync_to_async(session_cookie)(Client(), user)


@asynccontextmanager
async def in_room(live, room, demo, *usernames: str):
    """Sockets for these people in the room, each past its initial state message."""
    async with AsyncExitStack() as stack:
        sockets = []
        for username in usernames:
            ws = await stack.enter_async_context(RoomSocket(live, room.pk, await cookie(demo.users[username])))
            await ws.expect_type("state")
            sockets.append(ws)
        yield sockets


async def wait_for(predicate, timeout: float = 20.0, step: float = 0.2):
    end = asyncio.get_running_loop().time() + timeout
    while True:
        value = await sync_to_async(predicate)()
        if value:
            return value
        if asyncio.get_running_loop().time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


async def test_state_on_connect_and_role(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as ws:
        state = await ws.expect_type("state")
        assert state["role"] == "participant" and state["is_leader"] is False and state["recording"] is None
        # The state is the first clock probe (socket.js answers its server_time): no probe of its own.
        assert isinstance(state["server_time"], float)
        await ws.expect_type("roster")
        await ws.send(type="clock_reply", server_time=state["server_time"], client_time=time.time() * 1000)
        await wait_for(lambda: Presence.objects.filter(clock_offset__isnull=False).exists())
        assert not [m for m in ws.messages if m.get("type") == "clock_probe"]


async def test_participant_commands_are_refused(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as ws:
        await ws.expect_type("state")
        for command in ("start_recording", "stop_recording", "end_session"):
            await ws.send(type=command, id=command)
            error = await ws.expect(lambda m, c=command: m.get("type") == "error" and m.get("id") == c)
            assert error["error"] == "Only hosts and moderators can do that."
    assert await sync_to_async(Recording.objects.count)() == 0
    assert await sync_to_async(LiveSession.objects.filter(state="ended").count)() == 0


async def test_garbage_gets_an_error_and_the_socket_lives(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as ws:
        await ws.expect_type("state")
        await ws.ws.send("not json{")
        assert (await ws.expect_type("error"))["error"] == "That message is not valid JSON."
        ws.messages.clear()
        await ws.send(type="drop_tables")
        assert (await ws.expect_type("error"))["error"] == "Unknown command."
        ws.messages.clear()
        await ws.ws.send("[1, 2]")
        assert (await ws.expect_type("error"))["error"] == "Unknown command."
        ws.messages.clear()
        await ws.ws.send("x" * 5000)
        assert "at most 4 KB" in (await ws.expect_type("error"))["error"]
        ws.messages.clear()
        await ws.send(type="clock_reply", server_time="soon", client_time=None)
        assert "numeric" in (await ws.expect_type("error"))["error"]
        ws.messages.clear()
        await ws.send(type="heartbeat")  # still alive after all that
        await ws.expect_type("clock_probe")


async def test_concurrent_starts_give_one_recording_and_everyone_is_told(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "host", "coeditor", "participant") as (host, coeditor, participant):
        # Two hosts at the same moment, and one of them double-clicking.
        await asyncio.gather(
            host.send(type="start_recording", id=1),
            host.send(type="start_recording", id=2),
            coeditor.send(type="start_recording", id=1),
        )
        acks = [await host.expect(lambda m, i=i: m.get("type") == "ack" and m.get("id") == i) for i in (1, 2)]
        acks.append(await coeditor.expect(lambda m: m.get("type") == "ack"))
        assert len({a["uid"] for a in acks}) == 1
        assert sum(a["created"] for a in acks) == 1
        for ws in (host, coeditor, participant):
            await ws.expect_notice(STARTING)
            rec = await ws.expect(lambda m: m.get("type") == "recording")
            assert rec["recording"]["state"] == "starting" and rec["recording"]["capturing"] is True
    assert await sync_to_async(Recording.objects.filter(room=room).count)() == 1


async def test_stop_notices_by_role_and_stop_is_idempotent(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "host", "moderator", "participant") as (host, moderator, participant):
        await moderator.send(type="start_recording", id="s")
        await moderator.expect(lambda m: m.get("type") == "ack")
        await host.send(type="stop_recording", id="a")
        await moderator.send(type="stop_recording", id="b")
        first = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "a")
        second = await moderator.expect(lambda m: m.get("type") == "ack" and m.get("id") == "b")
        assert sorted([first["stopped"], second["stopped"]]) == [False, True]
        for leader in (host, moderator):
            await leader.expect_notice(ENDED_FOR_LEADERS)
        await participant.expect_notice(ENDED_FOR_PARTICIPANTS)
        await asyncio.sleep(0.5)
        assert ENDED_FOR_PARTICIPANTS not in host.texts()
        assert ENDED_FOR_LEADERS not in participant.texts()
    rec = await sync_to_async(Recording.objects.get)(room=room)
    assert rec.state == "stopping" and rec.stop_reason == "stopped_by_host"


async def test_late_joiner_gets_current_state(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
        await host.expect_type("state")
        await host.send(type="start_recording", id=1)
        ack = await host.expect_type("ack")
        # Pretend capture began 65 s ago (first media stored then).
        began = timezone.now() - timedelta(seconds=65)
        await sync_to_async(Recording.objects.filter(uid=ack["uid"]).update)(state="recording", started_at=began)
        async with (
            RoomSocket(live, room.pk, await cookie(demo.users["moderator"])) as late_leader,
            RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as late,
        ):
            for ws in (late_leader, late):
                state = await ws.expect_type("state")
                assert state["recording"]["uid"] == ack["uid"] and state["recording"]["state"] == "recording"
                assert 64 <= state["recording"]["elapsed"] <= 70
                await ws.expect_notice("This session is being recorded")
            assert (await late_leader.expect_type("state"))["is_leader"] is True


def host_gone(room) -> LiveSession | None:
    """The session once its host-left deadline is armed; expiring presences as the beat sweep would."""
    meeting_services.expire_presences()
    return LiveSession.objects.filter(room=room, host_left_deadline__isnull=False).first()


async def test_host_left_timeout_ends_session_and_stops_recording(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as participant:
        await participant.expect_type("state")
        async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
            await host.expect_type("state")
            await host.send(type="start_recording", id=1)
            await host.expect_type("ack")
            leaving = timezone.now()
        session = await wait_for(lambda: host_gone(room))
        # HOST_LEFT_TIMEOUT_SECONDS=4 in the live server, counted from when it saw the host go: at
        # once on a clean close, or when the presence expired (PRESENCE_TTL_SECONDS=3) if Daphne
        # dropped the disconnect under load.
        assert 3.9 <= (session.host_left_deadline - leaving).total_seconds() <= 4 + 3 + 10
        remaining = (session.host_left_deadline - timezone.now()).total_seconds()
        if remaining > 0.5:
            assert (await sync_to_async(session_deadlines.sweep)())["host_left"] == 0  # not yet
        await asyncio.sleep(max(remaining, 0) + 0.3)
        assert (await sync_to_async(session_deadlines.sweep)())["host_left"] == 1
        ended = await participant.expect_type("session_ended")
        assert ended["reason"] == "host_left"
    rec = await sync_to_async(Recording.objects.get)(room=room)
    assert rec.state == "stopping" and rec.stop_reason == "host_left"
    assert (await sync_to_async(session_deadlines.sweep)())["host_left"] == 0  # idempotent


async def test_returning_host_cancels_the_timeout(live, demo) -> None:
    room = demo.rooms["single"]
    host_cookie = await cookie(demo.users["host"])
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as participant:
        await participant.expect_type("state")
        async with RoomSocket(live, room.pk, host_cookie) as host:
            await host.expect_type("state")
        await wait_for(lambda: host_gone(room))
        async with RoomSocket(live, room.pk, host_cookie) as host_again:
            await host_again.expect_type("state")
            await wait_for(
                lambda: LiveSession.objects.filter(room=room, host_left_deadline__isnull=True, state="live").exists()
            )
            await asyncio.sleep(4.5)
            assert (await sync_to_async(session_deadlines.sweep)())["host_left"] == 0
            assert await sync_to_async(LiveSession.objects.filter(room=room, state="live").exists)()


async def test_presence_expires_when_heartbeats_stop(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
        await host.expect_type("state")
        # This client never sends a heartbeat, like a browser that froze or lost its network.
        await wait_for(lambda: Presence.objects.filter(session__room=room).exists())
        await asyncio.sleep(1.0)
        assert (await sync_to_async(session_deadlines.sweep)())["presences_expired"] == 0
        await asyncio.sleep(3.0)  # PRESENCE_TTL_SECONDS=3
        done = await sync_to_async(session_deadlines.sweep)()
        assert done["presences_expired"] == 1
        assert await sync_to_async(LiveSession.objects.filter(room=room, host_left_deadline__isnull=False).exists)()


async def test_heartbeats_keep_presence(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
        await host.expect_type("state")
        for _ in range(5):
            await host.send(type="heartbeat")
            await asyncio.sleep(1.0)
        assert (await sync_to_async(session_deadlines.sweep)())["presences_expired"] == 0
        assert await sync_to_async(Presence.objects.filter(session__room=room).exists)()


async def test_recording_cap_stops_it_and_hosts_are_told_why(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "host", "participant") as (host, participant):
        await host.send(type="start_recording", id=1)
        ack = await host.expect_type("ack")
        # 24 hours are a setting; here the deadline is simply due.
        await sync_to_async(Recording.objects.filter(uid=ack["uid"]).update)(
            state="recording", started_at=timezone.now(), cap_deadline=timezone.now()
        )
        assert (await sync_to_async(recording_deadlines.sweep)())["recording_cap"] == 1
        await host.expect_notice(CAP_REACHED)
        await host.expect_notice(ENDED_FOR_LEADERS)
        await participant.expect_notice(ENDED_FOR_PARTICIPANTS)
    rec = await sync_to_async(Recording.objects.get)(uid=ack["uid"])
    assert rec.state == "stopping" and rec.stop_reason == "recording_cap"
    assert await sync_to_async(LiveSession.objects.filter(room=room, state="live").exists)()  # the session goes on


async def test_session_cap_ends_session_for_everyone(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "host", "participant") as (host, participant):
        await host.send(type="start_recording", id=1)
        await host.expect_type("ack")
        await sync_to_async(LiveSession.objects.filter(room=room).update)(max_end_at=timezone.now())
        assert (await sync_to_async(session_deadlines.sweep)())["session_cap"] == 1
        for ws in (host, participant):
            assert (await ws.expect_type("session_ended"))["reason"] == "session_cap"
    rec = await sync_to_async(Recording.objects.get)(room=room)
    assert rec.state == "stopping" and rec.stop_reason == "session_ended"


async def test_end_session_for_everyone(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "moderator", "participant") as (moderator, participant):
        await moderator.send(type="end_session", id=9)
        assert (await participant.expect_type("session_ended"))["reason"] == "ended_by_host"
    assert await sync_to_async(LiveSession.objects.filter(room=room, state="ended").exists)()


async def test_no_media_within_the_timeout_fails_the_recording(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
        await host.expect_type("state")
        await host.send(type="start_recording", id=1)
        ack = await host.expect_type("ack")
        await sync_to_async(Recording.objects.filter(uid=ack["uid"]).update)(first_media_deadline=timezone.now())
        assert (await sync_to_async(recording_deadlines.sweep)())["no_media"] == 1
        failed = await host.expect(lambda m: m.get("type") == "notice" and m.get("code") == "recording_failed")
        assert failed["text"] == NO_MEDIA
    assert (await sync_to_async(Recording.objects.get)(uid=ack["uid"])).state == "failed"


async def test_broadcast_goes_live_and_the_host_can_close_the_room(live, demo) -> None:
    room = demo.rooms["single"]
    await sync_to_async(type(room).objects.filter(pk=room.pk).update)(mode="broadcast")
    async with in_room(live, room, demo, "host", "participant") as (host, participant):
        # Preview first; only a leader may go live, and everyone is told.
        await participant.send(type="go_live", id="p")
        error = await participant.expect(lambda m: m.get("type") == "error" and m.get("id") == "p")
        assert error["error"] == "Only hosts and moderators can do that."
        await host.send(type="go_live", id="g")
        ack = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "g")
        assert ack["live"] is True
        await participant.expect(lambda m: m.get("type") == "session" and m.get("state") == "live")
        await participant.expect_notice(BROADCAST_LIVE)
        await host.send(type="end_session", id="e", close_room=True)
        ended = await participant.expect_type("session_ended")
        assert ended["reason"] == "room_closed" and ended["text"] == "The host closed the room."
    session = await sync_to_async(LiveSession.objects.get)(room=room)
    assert session.state == "ended" and session.room_closed


async def test_go_live_outside_a_broadcast_room_is_an_error(live, demo) -> None:
    room = demo.rooms["single"]
    async with in_room(live, room, demo, "host") as (host,):
        state_session = await sync_to_async(LiveSession.objects.get)(room=room, state="live")
        await host.send(type="go_live", id="g")
        error = await host.expect(lambda m: m.get("type") == "error" and m.get("id") == "g")
        assert "broadcast" in error["error"]
    assert state_session.state == "live"


async def test_hostile_json_gets_an_error_and_never_a_crash(live, demo) -> None:
    """Deep nesting (RecursionError in the decoder) and non-text command names: an error, the socket lives."""
    room = demo.rooms["single"]
    log_start = len(live.log.read_text())
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as ws:
        await ws.expect_type("state")
        hostile = [
            ("[" * 1500 + "]" * 1500, "That message is nested too deeply."),
            ("[" * 4000, "That message is nested too deeply."),  # never closed: the decoder recurses first
            ('{"type": {}}', "Unknown command."),
            ('{"type": []}', "Unknown command."),
            ('{"type": {}, "id": {"x": 1}}', "Unknown command."),
            ('{"type": "heartbeat", "id": NaN}', None),
            ('{"type": "start_recording", "id": Infinity}', "Only hosts and moderators can do that."),
            ('"just a string"', "Unknown command."),
            ("null", "Unknown command."),
        ]
        for raw, expected in hostile:
            ws.messages.clear()
            await ws.ws.send(raw)
            await ws.send(type="ping?", id="after")  # every message before it was answered, in order
            await ws.expect(lambda m: m.get("id") == "after")
            answers = list(ws.messages)  # everything received since the hostile message, the marker last
            errors = [m for m in answers[:-1] if m.get("type") == "error"]
            if expected is None:
                assert errors == [], (raw[:40], answers)
            else:
                assert [e["error"] for e in errors] == [expected], (raw[:40], answers)
                # Only a string or integer id is echoed (NaN, Infinity or a structure break JSON.parse).
                assert errors[0]["id"] is None, (raw[:40], errors)
        assert ws.ws.close_code is None
    assert "Traceback" not in live.log.read_text()[log_start:]
