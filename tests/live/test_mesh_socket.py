"""The live mesh's roster and signalling over the real room socket (a Daphne process, the real Redis).

Issue 11: signalling is relayed only between members of the same live session, authorised by the
room policy; garbage gets an error, never a crash; a socket that leaves is dropped from everyone's roster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest
import websockets
from asgiref.sync import sync_to_async

from meetings import notices as meeting_notices
from meetings import permissions
from meetings.models import Room
from meetings.permissions import RoomAction
from tests.live.conftest import LiveServer, RoomSocket, live_env, start_daphne, stop_process, wait_for_disconnects
from tests.live.test_room_socket import cookie

pytestmark = [pytest.mark.asyncio]

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
NOT_HERE = "That person is not in this session."


async def join(stack: AsyncExitStack, live, room, user) -> tuple[RoomSocket, dict]:
    ws = await stack.enter_async_context(RoomSocket(live, room.pk, await cookie(user)))
    await ws.expect_type("state")
    return ws, await ws.expect_type("roster")


async def quiet(ws: RoomSocket, predicate, seconds: float = 1.0) -> None:
    """Nothing matching arrives within `seconds`."""
    with pytest.raises(AssertionError):
        await ws.expect(predicate, timeout=seconds)


async def test_roster_join_state_and_leave(live, demo) -> None:
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        assert host_roster["sends"] is True and host_roster["peers"] == []
        guest_stack = AsyncExitStack()
        guest, guest_roster = await join(guest_stack, live, room, demo.users["participant"])
        # The joiner hears who is here, with names and roles, never a channel name.
        [seen] = guest_roster["peers"]
        assert seen["peer"] == host_roster["peer_id"] and seen["name"] == "Hana Host" and seen["role"] == "host"
        assert set(seen) == {"peer", "user_id", "name", "role", "sends", "mic", "cam", "screen", "speaker"}
        # Everyone already there hears of the newcomer once.
        joined = await host.expect(lambda m: m.get("type") == "peer_joined" and m["peer"]["name"] == "Pia Participant")
        assert joined["peer"]["peer"] == guest_roster["peer_id"] and joined["peer"]["role"] == "participant"
        await quiet(guest, lambda m: m.get("type") == "peer_joined")  # not echoed to the joiner itself
        arrivals = [m for m in host.messages if m.get("type") == "peer_joined"]
        assert [m["peer"]["peer"] for m in arrivals] == [guest_roster["peer_id"]]  # once

        # Microphone and camera state reach the others.
        await guest.send(type="media_state", mic=False, cam=True, screen=None)
        state = await host.expect_type("peer_state")
        assert state == {"type": "peer_state", "peer_id": guest_roster["peer_id"], "mic": False, "cam": True,
                         "screen": None}  # fmt: skip
        # ... and a late joiner reads them from the roster.
        _, late = await join(stack, live, room, demo.users["moderator"])
        by_name = {p["name"]: p for p in late["peers"]}
        assert by_name["Pia Participant"]["mic"] is False and by_name["Pia Participant"]["cam"] is True
        assert set(by_name) == {"Hana Host", "Pia Participant"}

        await guest_stack.aclose()  # the participant leaves
        left = await host.expect_type("peer_left")
        assert left["peer_id"] == guest_roster["peer_id"]


async def test_signalling_reaches_only_the_peer_named(live, demo) -> None:
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        guest, guest_roster = await join(stack, live, room, demo.users["participant"])
        other, _ = await join(stack, live, room, demo.users["coeditor"])
        await guest.send(type="signal", to=host_roster["peer_id"], kind="offer", sdp=SDP)
        offer = await host.expect_type("signal")
        assert offer == {"type": "signal", "from_peer": guest_roster["peer_id"], "kind": "offer", "sdp": SDP,
                         "candidate": None}  # fmt: skip
        await host.send(type="signal", to=guest_roster["peer_id"], kind="candidate", candidate={**CANDIDATE, "x": 1})
        candidate = await guest.expect_type("signal")
        assert candidate["kind"] == "candidate" and candidate["candidate"] == CANDIDATE  # unknown fields dropped
        await quiet(other, lambda m: m.get("type") == "signal")


async def test_signalling_to_another_room_is_refused(live, demo) -> None:
    room = demo.rooms["single"]
    elsewhere = await sync_to_async(Room.objects.create)(
        title="Otto's room", kind=Room.Kind.SINGLE, owner=demo.users["outsider"], creator=demo.users["outsider"]
    )
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        stranger, stranger_roster = await join(stack, live, elsewhere, demo.users["outsider"])
        assert stranger_roster["peers"] == []  # nobody of the other room
        await stranger.send(type="signal", to=host_roster["peer_id"], kind="offer", sdp=SDP, id="x")
        error = await stranger.expect_type("error")
        assert error == {"type": "error", "error": NOT_HERE, "id": "x"}
        await stranger.send(type="mute", peer=host_roster["peer_id"], id="m")
        assert (await stranger.expect(lambda m: m.get("id") == "m"))["error"] == NOT_HERE
        mine = host_roster["peer_id"]
        await quiet(
            host, lambda m: m.get("type") in ("signal", "mute_request") or m.get("peer", {}).get("peer", mine) != mine
        )

    # An outsider cannot even open the room's socket.
    with pytest.raises(websockets.InvalidStatus):
        async with RoomSocket(live, room.pk, await cookie(demo.users["outsider"])) as ws:
            await ws.expect_type("state")


async def test_garbage_signalling_gets_an_error_and_the_socket_lives(live, demo) -> None:
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        guest, guest_roster = await join(stack, live, room, demo.users["participant"])
        to = host_roster["peer_id"]
        cases = [
            ({"kind": "offer", "sdp": SDP}, "A signalling message names its peer (to)."),
            ({"to": "../../etc", "kind": "offer", "sdp": SDP}, "A signalling message names its peer (to)."),
            ({"to": to, "kind": "bye"}, 'A signalling message is an "offer", an "answer" or a "candidate".'),
            ({"to": to, "kind": "offer", "sdp": 5}, "session description"),
            ({"to": to, "kind": "answer", "sdp": "hello"}, "session description"),
            ({"to": to, "kind": "offer", "sdp": "v=0" + "a" * 25_000}, "session description of at most 24000"),
            ({"to": to, "kind": "candidate", "candidate": "x"}, "A candidate is an object"),
            ({"to": to, "kind": "candidate", "candidate": {"candidate": 1}}, "A candidate's text"),
            ({"to": to, "kind": "candidate", "candidate": {**CANDIDATE, "sdpMLineIndex": True}}, "sdpMLineIndex"),
            ({"to": to, "kind": "candidate", "candidate": {**CANDIDATE, "sdpMid": ["x"]}}, "sdpMid"),
            ({"to": guest_roster["peer_id"], "kind": "offer", "sdp": SDP}, NOT_HERE),  # to oneself
            ({"to": "0123456789abcdef", "kind": "offer", "sdp": SDP}, NOT_HERE),
        ]
        for i, (fields, error) in enumerate(cases):
            await guest.send(type="signal", id=i, **fields)
            answer = await guest.expect(lambda m, i=i: m.get("type") == "error" and m.get("id") == i)
            assert error in answer["error"], (fields, answer)
        for i, fields in enumerate([{"mic": "yes", "cam": True}, {"mic": True, "cam": True, "screen": "<b>"}]):
            await guest.send(type="media_state", id=f"s{i}", **fields)
            assert (await guest.expect(lambda m, i=i: m.get("id") == f"s{i}"))["type"] == "error"
        # Past 32 KB nothing is decoded; past 4 KB only a signal is: both get the 4 KB error.
        await guest.ws.send(json.dumps({"type": "signal", "to": to, "kind": "offer", "sdp": "v=0" + "a" * 40_000}))
        await guest.expect(lambda m: m.get("type") == "error" and "at most 4 KB" in m["error"])
        guest.messages.clear()
        await guest.ws.send(json.dumps({"type": "heartbeat", "pad": "x" * 6000}))
        await guest.expect(lambda m: m.get("type") == "error" and "at most 4 KB" in m["error"])
        # A real offer of Chromium's size goes through, and the socket is alive after all that.
        big = SDP + "a=x\r\n" * 2000
        await guest.send(type="signal", to=to, kind="offer", sdp=big)
        assert (await host.expect_type("signal"))["sdp"] == big
        await guest.send(type="heartbeat")
        await guest.expect_type("clock_probe")
        assert guest.ws.close_code is None


async def drain(ws: RoomSocket, seconds: float) -> None:
    """Read everything that arrives within `seconds` into ws.messages."""
    with pytest.raises(AssertionError):
        await ws.expect(lambda m: False, timeout=seconds)


async def test_signalling_is_rate_limited(live, demo) -> None:
    room = demo.rooms["single"]
    sent = 1000  # well past the burst (200) at any speed the server reads them (40 a second refill)
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        guest, _ = await join(stack, live, room, demo.users["participant"])
        message = json.dumps({"type": "signal", "to": host_roster["peer_id"], "kind": "candidate", "candidate": None})
        for _ in range(sent):
            await guest.ws.send(message)

        def refused() -> int:
            return sum(1 for m in guest.messages if m.get("error") == "Too many messages: slow down.")

        def relayed() -> int:
            return sum(1 for m in host.messages if m.get("type") == "signal")

        # Past the burst the rest is refused, each with the error (a loaded server reads slowly, so wait).
        for _ in range(240):
            if refused() and relayed() >= 200:
                break
            await drain(guest, 0.25)
            await drain(host, 0.25)
        assert refused() > 0 and relayed() >= 200, (refused(), relayed())
        assert refused() + relayed() <= sent


async def test_mute_is_for_leaders_and_reaches_the_person(live, demo) -> None:
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        guest, guest_roster = await join(stack, live, room, demo.users["participant"])
        await guest.send(type="mute", peer=host_roster["peer_id"], id=1)
        assert (await guest.expect(lambda m: m.get("id") == 1))["error"] == "Only hosts and moderators can do that."
        await quiet(host, lambda m: m.get("type") == "mute_request", 0.5)
        await host.send(type="mute", peer=guest_roster["peer_id"], id=2)
        request = await guest.expect_type("mute_request")
        assert request["by"] == "Hana Host"
        assert request["text"] == "A host or moderator muted your microphone. You can unmute it yourself."
        assert (await host.expect(lambda m: m.get("id") == 2))["type"] == "ack"


async def broadcast_room(demo) -> Room:
    """The demo's room as a live broadcast, with a second viewer (the outsider, invited)."""
    room = demo.rooms["single"]
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(mode=Room.Mode.BROADCAST)
    await sync_to_async(room.invitees.add)(demo.users["outsider"])
    return room


async def test_broadcast_viewers_receive_only(live, demo) -> None:
    room = await broadcast_room(demo)
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        viewer, viewer_roster = await join(stack, live, room, demo.users["participant"])
        assert host_roster["sends"] is True and viewer_roster["sends"] is False
        await viewer.expect_notice(meeting_notices.TEXTS.text("mesh_viewer"))
        # Viewers answer the host's offers...
        await viewer.send(type="signal", to=host_roster["peer_id"], kind="answer", sdp=SDP)
        assert (await host.expect_type("signal"))["from_peer"] == viewer_roster["peer_id"]
        # ... but do not connect to each other, and send no media state.
        other, other_roster = await join(stack, live, room, demo.users["outsider"])
        await other.send(type="signal", to=viewer_roster["peer_id"], kind="offer", sdp=SDP, id="vv")
        error = (await other.expect(lambda m: m.get("id") == "vv"))["error"]
        assert error == "Neither of you sends media: there is nothing to connect."
        await viewer.send(type="media_state", mic=True, cam=True, screen=None, id="ms")
        refused = "Only hosts, moderators and invited speakers can do that."
        assert (await viewer.expect(lambda m: m.get("id") == "ms"))["error"] == refused


async def test_a_broadcast_viewer_invited_to_speak_sends_until_taken_back(live, demo) -> None:
    """SPEC: in a live broadcast only hosts, moderators and invited speakers send media. A host invites
    a viewer: the viewer's socket is let into the mesh as a sender and told so, the others see a
    speaker; taken back, the viewer watches again. Only leaders invite, only viewers are invited."""
    room = await broadcast_room(demo)
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, live, room, demo.users["host"])
        viewer, viewer_roster = await join(stack, live, room, demo.users["participant"])
        other, other_roster = await join(stack, live, room, demo.users["outsider"])
        assert viewer_roster["sends"] is False
        viewer_id = viewer_roster["peer_id"]

        # Only a leader invites, only a viewer is invited, and the message must say which way.
        await other.send(type="speaker", peer=viewer_id, speaker=True, id="o")
        assert (await other.expect(lambda m: m.get("id") == "o"))["error"] == "Only hosts and moderators can do that."
        await host.send(type="speaker", peer=host_roster["peer_id"], speaker=True, id="h")
        assert (await host.expect(lambda m: m.get("id") == "h"))[
            "error"
        ] == "Hosts and moderators are seen and heard already."
        for garbage, ref in ((None, "g1"), ("yes", "g2"), (1, "g3")):
            await host.send(type="speaker", peer=viewer_id, speaker=garbage, id=ref)
            assert "speaker is true or false" in (await host.expect(lambda m, r=ref: m.get("id") == r))["error"]
        await host.send(type="speaker", peer="p-nobody-here", speaker=True, id="n")
        assert (await host.expect(lambda m: m.get("id") == "n"))["error"] == NOT_HERE

        await host.send(type="speaker", peer=viewer_id, speaker=True, id="inv")
        ack = await host.expect(lambda m: m.get("id") == "inv")
        assert (ack["type"], ack["peer"], ack["speaker"], ack["changed"]) == ("ack", viewer_id, True, True)
        # The viewer is in the mesh as a sender now, under the same peer id, and is told.
        roster = await viewer.expect(lambda m: m.get("type") == "roster" and m["sends"] is True)
        assert roster["peer_id"] == viewer_id
        await viewer.expect_notice(meeting_notices.TEXTS.text("speaker_invited"))
        for ws in (host, other):  # everyone else sees a speaker, who now sends
            joined = await ws.expect(
                lambda m: m.get("type") == "peer_joined" and m["peer"]["peer"] == viewer_id and m["peer"]["sends"]
            )
            assert joined["peer"]["speaker"] is True
        # A speaker's media state is accepted and reaches the others; so is a screen share.
        await viewer.send(type="media_state", mic=True, cam=False, screen="screen-1", id="ms")
        state = await other.expect(lambda m: m.get("type") == "peer_state" and m["peer_id"] == viewer_id)
        assert (state["mic"], state["cam"], state["screen"]) == (True, False, "screen-1")
        # The other viewer may now connect to the speaker (one of the two sends).
        await other.send(type="signal", to=viewer_id, kind="answer", sdp=SDP, id="sig")
        assert (await viewer.expect_type("signal"))["from_peer"] == other_roster["peer_id"]
        # The speaker's camera may be recorded: the upload's check agrees.
        participant, broadcast = demo.users["participant"], await sync_to_async(Room.objects.get)(pk=room.pk)
        assert await sync_to_async(permissions.can)(participant, RoomAction.SEND_MEDIA, broadcast)

        await host.send(type="speaker", peer=viewer_id, speaker=False, id="back")
        assert (await host.expect(lambda m: m.get("id") == "back"))["changed"] is True
        await viewer.expect(lambda m: m.get("type") == "roster" and m["sends"] is False)
        await viewer.expect_notice(meeting_notices.TEXTS.text("speaker_ended"))
        gone = await other.expect(
            lambda m: m.get("type") == "peer_joined" and m["peer"]["peer"] == viewer_id and not m["peer"]["sends"]
        )
        assert gone["peer"]["screen"] is None and gone["peer"]["mic"] is False  # nothing of theirs on air
        await viewer.send(type="media_state", mic=True, cam=True, screen=None, id="ms2")
        refused = "Only hosts, moderators and invited speakers can do that."
        assert (await viewer.expect(lambda m: m.get("id") == "ms2"))["error"] == refused
        assert not await sync_to_async(permissions.can)(participant, RoomAction.SEND_MEDIA, broadcast)


async def test_a_meeting_has_no_speakers_to_invite(live, demo) -> None:
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, _ = await join(stack, live, room, demo.users["host"])
        _, guest_roster = await join(stack, live, room, demo.users["participant"])
        await host.send(type="speaker", peer=guest_roster["peer_id"], speaker=True, id=1)
        assert (await host.expect(lambda m: m.get("id") == 1))[
            "error"
        ] == "That is only possible in a live broadcast room."


@pytest.fixture(scope="module")
def small_mesh(django_db_setup, tmp_path_factory) -> Iterator[LiveServer]:
    """A Daphne whose meshes hold two people (MESH_MAX_PEERS), for the cap's test."""
    proc, server = start_daphne(live_env(MESH_MAX_PEERS="2"), tmp_path_factory.mktemp("mesh") / "daphne.log")
    yield server
    stop_process(proc)


async def test_past_the_mesh_cap_a_joiner_is_told_and_nobody_hears_of_them(small_mesh, transactional_db, demo) -> None:
    """Decision 0032: the third person into a mesh of two gets no roster and the `mesh_full` notice,
    the two in it hear nothing of them; when one leaves, the third takes the place at a heartbeat."""
    room = demo.rooms["single"]
    async with AsyncExitStack() as stack:
        host, host_roster = await join(stack, small_mesh, room, demo.users["host"])
        guest_stack = AsyncExitStack()
        guest, guest_roster = await join(guest_stack, small_mesh, room, demo.users["participant"])
        third = await stack.enter_async_context(RoomSocket(small_mesh, room.pk, await cookie(demo.users["moderator"])))
        await third.expect_type("state")
        await third.expect_notice(meeting_notices.TEXTS.text("mesh_full"))
        assert not [m for m in third.messages if m.get("type") == "roster"]
        for ws in (host, guest):
            await quiet(ws, lambda m: m.get("type") == "peer_joined" and m["peer"]["name"] == "Milo Moderator")
        # Signalling from outside the mesh is refused like any stranger's.
        await third.send(type="signal", to=host_roster["peer_id"], kind="offer", sdp=SDP, id="s")
        assert (await third.expect(lambda m: m.get("id") == "s"))["error"] == NOT_HERE

        await guest_stack.aclose()  # a place frees: the third is in at its next heartbeat
        await host.expect(lambda m: m.get("type") == "peer_left" and m["peer_id"] == guest_roster["peer_id"])
        await third.send(type="heartbeat")
        roster = await third.expect_type("roster")
        assert [p["name"] for p in roster["peers"]] == ["Hana Host"]
        joined = await host.expect(lambda m: m.get("type") == "peer_joined" and m["peer"]["name"] == "Milo Moderator")
        assert joined["peer"]["peer"] == roster["peer_id"]
        assert third.texts().count(meeting_notices.TEXTS.text("mesh_full")) == 1  # told once
    await sync_to_async(wait_for_disconnects)()


@pytest.fixture(scope="module")
def one_sender(django_db_setup, tmp_path_factory) -> Iterator[LiveServer]:
    """A Daphne whose meshes carry one sender (MESH_SENDER_LIMIT), for an invitation past the limit."""
    proc, server = start_daphne(live_env(MESH_SENDER_LIMIT="1"), tmp_path_factory.mktemp("senders") / "daphne.log")
    yield server
    stop_process(proc)


async def test_a_speaker_invited_past_the_sender_limit_is_told_why_they_cannot_send(
    one_sender, transactional_db, demo
) -> None:
    room = await broadcast_room(demo)
    async with AsyncExitStack() as stack:
        host, _ = await join(stack, one_sender, room, demo.users["host"])  # the one sender
        viewer, viewer_roster = await join(stack, one_sender, room, demo.users["participant"])
        await host.send(type="speaker", peer=viewer_roster["peer_id"], speaker=True, id="inv")
        assert (await host.expect(lambda m: m.get("id") == "inv"))["changed"] is True
        notice = await viewer.expect_notice(meeting_notices.TEXTS.text("mesh_sender_limit"))
        assert notice["level"] == "warning"
        assert meeting_notices.TEXTS.text("speaker_invited") not in viewer.texts()
        assert [m["sends"] for m in viewer.messages if m.get("type") == "roster"] == [False, False]
    await sync_to_async(wait_for_disconnects)()
