"""Automatic recording (issue 12) over the real ASGI stack (Daphne) and Redis: a room set to record
automatically starts when its first host or moderator joins, once, and a session that ends without
Stop (here the host-left time-out) ends with its recording stopped and processed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from meetings import deadlines as session_deadlines
from meetings.models import LiveSession, Room
from recordings import deadlines as recording_deadlines
from recordings.models import Recording, RecordingTransition
from tests.live.conftest import RoomSocket, csrf_pair, make_webm, session_cookie
from tests.live.test_room_socket import host_gone, wait_for

pytestmark = [pytest.mark.asyncio]

# SPEC.md's words, as for Record.
STARTING = "Recording will start momentarily, please wait"


async def cookie(user) -> str:
    return await sync_to_async(session_cookie)(Client(), user)


async def auto(room: Room, on: bool = True) -> None:
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(record_automatically=on)


async def test_a_participant_does_not_start_it_the_first_leader_does(live, demo) -> None:
    room = demo.rooms["single"]
    await auto(room)
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as participant:
        assert (await participant.expect_type("state"))["recording"] is None
        await asyncio.sleep(0.3)
        assert not await sync_to_async(Recording.objects.exists)()
        async with RoomSocket(live, room.pk, await cookie(demo.users["moderator"])) as moderator:
            state = await moderator.expect_type("state")
            assert state["recording"]["state"] == "starting" and state["recording"]["capturing"] is True
            await moderator.expect_notice(STARTING)  # told as a late joiner is
            # Those already in the room hear it as for Record.
            await participant.expect_notice(STARTING)
            rec = await participant.expect_type("recording")
            assert rec["recording"]["uid"] == state["recording"]["uid"]
    recording = await sync_to_async(Recording.objects.select_related("started_by").get)(room=room)
    assert recording.started_by.username == "moderator"
    note = await sync_to_async(lambda: RecordingTransition.objects.get(recording=recording).note)()
    assert note == "started automatically when moderator joined"


async def test_two_leaders_joining_at_once_start_one_recording(live, demo) -> None:
    room = demo.rooms["single"]
    await auto(room)
    cookies = [await cookie(demo.users[name]) for name in ("host", "coeditor", "moderator")]
    sockets = [RoomSocket(live, room.pk, c) for c in cookies]
    await asyncio.gather(*(ws.__aenter__() for ws in sockets))
    try:
        states = await asyncio.gather(*(ws.expect_type("state") for ws in sockets))
        uids = {s["recording"]["uid"] for s in states if s["recording"]}
        assert len(uids) == 1
        assert await sync_to_async(Recording.objects.filter(room=room).count)() == 1
        # Stopped by a host, it does not start again when another leader comes back.
        await sockets[0].send(type="stop_recording", id="stop")
        await sockets[0].expect(lambda m: m.get("type") == "ack" and m.get("id") == "stop")
        async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as again:
            assert (await again.expect_type("state"))["recording"]["state"] == "stopping"
        assert await sync_to_async(Recording.objects.filter(room=room).count)() == 1
    finally:
        await asyncio.gather(*(ws.__aexit__(None, None, None) for ws in sockets))


async def test_a_room_without_the_setting_waits_for_record(live, demo) -> None:
    room = demo.rooms["single"]
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
        assert (await host.expect_type("state"))["recording"] is None
    assert not await sync_to_async(Recording.objects.exists)()


async def test_the_host_left_time_out_ends_it_and_it_is_processed(live, demo, tmp_path) -> None:
    room = demo.rooms["single"]
    await auto(room)
    body = await sync_to_async(make_webm)(tmp_path / "seg.webm", seconds=1.0)
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as participant:
        await participant.expect_type("state")
        async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host:
            uid = (await host.expect_type("state"))["recording"]["uid"]
            # The participant's browser uploads a segment, as it would while capturing.
            token, csrf_cookie = csrf_pair()
            pcookie = await cookie(demo.users["participant"])
            async with httpx.AsyncClient(
                base_url=live.url,
                cookies={"sessionid": pcookie, "csrftoken": csrf_cookie},
                headers={"X-CSRFToken": token, "Origin": live.url, "X-Track-Kind": "camera"},
                timeout=20,
            ) as client:
                start_ms = str(timezone.now().timestamp() * 1000 - 1000)
                response = await client.put(
                    f"/rooms/{room.pk}/recordings/{uid}/tracks/camera-p/segments/0",
                    content=body,
                    headers={"X-Segment-Start": start_ms, "X-Segment-Duration": "1000"},
                )
            assert response.status_code == 201, response.text
            await participant.expect_notice("This session is being recorded")
        # The host left without Stop; nobody comes back within the (shortened) time-out.
        session = await wait_for(lambda: host_gone(room))
        await asyncio.sleep(max((session.host_left_deadline - timezone.now()).total_seconds(), 0) + 0.3)
        assert (await sync_to_async(session_deadlines.sweep)())["host_left"] == 1
        assert (await participant.expect_type("session_ended"))["reason"] == "host_left"
    recording = await sync_to_async(Recording.objects.get)(room=room)
    assert recording.state == "stopping" and recording.stop_reason == "host_left"
    assert await sync_to_async(LiveSession.objects.filter(room=room, state="ended").exists)()
    # After the stop grace the sweep hands it to processing (finalize runs eagerly in tests).
    await asyncio.sleep(2.3)
    assert (await sync_to_async(recording_deadlines.sweep)())["processing"] == 1
    await sync_to_async(recording.refresh_from_db)()
    moves = await sync_to_async(lambda: list(recording.transitions.values_list("to_state", flat=True)))()
    assert moves[:4] == ["starting", "recording", "stopping", "processing"], moves
    assert recording.state in ("processing", "available"), (recording.state, recording.error)
