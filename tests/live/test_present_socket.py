"""Presenting over the room's socket (issue 11): start, turn, video, stop; refusals; garbage; leaving."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from media_library.models import MediaEntry
from meetings.models import Presentation, PresentationEvent
from tests.live.conftest import RoomSocket, session_cookie
from tests.presenting import make_pdf, room_file

pytestmark = [pytest.mark.asyncio]


async def cookie(user) -> str:
    return await sync_to_async(session_cookie)(Client(), user)


def is_presentation(m: dict, **fields: object) -> bool:
    p = m.get("presentation")
    return m.get("type") == "presentation" and (
        p is None if fields.get("stopped") else p is not None and all(p.get(k) == v for k, v in fields.items())
    )


@sync_to_async
def slides(demo, pages: int = 3) -> MediaEntry:
    return room_file(
        demo.rooms["single"], demo.users["host"], name="deck.pdf", data=make_pdf(pages),
        kind=MediaEntry.Kind.DOCUMENT, content_type="application/pdf",
    )  # fmt: skip


async def error_for(ws: RoomSocket, ref: str) -> str:
    message = await ws.expect(lambda m: m.get("type") == "error" and m.get("id") == ref, timeout=30)
    return message["error"]


async def test_present_turn_and_stop_reach_everyone_and_late_joiners_land_on_the_page(live, demo) -> None:
    room, entry = demo.rooms["single"], await slides(demo)
    async with (
        RoomSocket(live, room.pk, await cookie(demo.users["host"])) as host,
        RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as viewer,
    ):
        assert (await host.expect_type("state"))["presentation"] is None
        await viewer.expect_type("state")
        await host.send(type="present_start", id="s", entry=entry.pk)
        ack = await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "s", timeout=30)
        shown = await viewer.expect(lambda m: is_presentation(m, page=1, page_count=3, kind="pdf"), timeout=30)
        assert shown["presentation"]["id"] == ack["presentation"] and shown["presentation"]["entry_id"] == entry.pk
        await host.send(type="present_page", id="p", page=2)
        await viewer.expect(lambda m: is_presentation(m, page=2))
        await host.expect(lambda m: m.get("type") == "ack" and m.get("id") == "p" and m["page"] == 2)

        # A late joiner's state has the current page.
        async with RoomSocket(live, room.pk, await cookie(demo.users["moderator"])) as late:
            state = await late.expect_type("state")
            assert state["presentation"]["page"] == 2 and state["presentation"]["title"] == entry.title
            # Only the presenter turns pages; another leader may stop.
            await late.send(type="present_page", id="lp", page=3)
            assert await error_for(late, "lp") == "Only the person presenting can do that."
            await host.send(type="present_page", id="bad", page=7)
            assert await error_for(host, "bad") == "There is no page 7: this PDF has 3."
            await late.send(type="present_stop", id="stop")
            await viewer.expect(lambda m: is_presentation(m, stopped=True))
    log = await sync_to_async(lambda: list(PresentationEvent.objects.values_list("page", flat=True)))()
    assert log == [1, 2]
    assert await sync_to_async(Presentation.objects.filter(ended_at__isnull=False).count)() == 1


async def test_participants_and_outsiders_are_refused(live, demo) -> None:
    room, entry = demo.rooms["single"], await slides(demo)
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as ws:
        await ws.expect_type("state")
        for command, extra in (
            ("present_start", {"entry": entry.pk}),
            ("present_page", {"page": 2}),
            ("present_video", {"playing": True, "position": 1}),
            ("present_stop", {}),
        ):
            await ws.send(type=command, id=command, **extra)
            assert await error_for(ws, command) == "Only hosts and moderators can do that."
    # An outsider's socket is refused before it opens; a host of another room cannot present this room's file.
    async with RoomSocket(live, demo.rooms["channel"].pk, await cookie(demo.users["host"])) as other:
        await other.expect_type("state")
        await other.send(type="present_start", id="x", entry=entry.pk)
        assert await error_for(other, "x") == "That item is not in this room's Media and Files."
    assert await sync_to_async(Presentation.objects.count)() == 0


async def test_garbage_gets_an_error_never_a_crash(live, demo) -> None:
    room, entry = demo.rooms["single"], await slides(demo)
    async with RoomSocket(live, room.pk, await cookie(demo.users["host"])) as ws:
        await ws.expect_type("state")
        garbage = [
            ("present_start", {"entry": "1"}, "Name the item"),
            ("present_start", {"entry": True}, "Name the item"),
            ("present_start", {"entry": 2**70}, "Name the item"),
            ("present_start", {"entry": 99999999}, "not in this room"),
            ("present_page", {"page": 2}, "Nothing is being presented."),
            ("present_page", {"page": 0}, "A page is a whole number"),
            ("present_page", {"page": 1.5}, "A page is a whole number"),
            ("present_video", {"playing": "yes", "position": 1}, "A video command needs"),
            ("present_video", {"playing": True, "position": None}, "A video command needs"),
            ("present_video", {"playing": True, "position": [1]}, "A video command needs"),
            ("present_video", {"playing": True, "position": 1, "at": "now"}, "A video command needs"),
            ("present_video", {"playing": True, "position": 1, "at": 1e300}, "A video command needs"),
        ]
        for i, (command, extra, expected) in enumerate(garbage):
            await ws.send(type=command, id=f"g{i}", **extra)
            assert expected in await error_for(ws, f"g{i}")
        await ws.send(type="present_start", id="ok", entry=entry.pk)
        await ws.expect(lambda m: m.get("type") == "ack" and m.get("id") == "ok", timeout=30)
        await ws.send(type="present_video", id="v", playing=True, position=3)
        assert await error_for(ws, "v") == "Only a video can be played, paused or sought."
        # A flood is cut off by the rate limit, and the socket lives on.
        for i in range(40):
            await ws.send(type="present_page", id=f"f{i}", page=1 + i % 3)
        await ws.expect(lambda m: m.get("type") == "error" and "slow down" in m.get("error", ""))
        await ws.send(type="heartbeat")
        await ws.expect_type("clock_probe")


async def test_presenting_stops_when_the_presenter_leaves(live, demo) -> None:
    room, entry = demo.rooms["single"], await slides(demo)
    async with RoomSocket(live, room.pk, await cookie(demo.users["participant"])) as viewer:
        await viewer.expect_type("state")
        async with RoomSocket(live, room.pk, await cookie(demo.users["moderator"])) as presenter:
            await presenter.expect_type("state")
            await presenter.send(type="present_start", id="s", entry=entry.pk)
            await viewer.expect(lambda m: is_presentation(m, page=1), timeout=30)
        await viewer.expect(lambda m: is_presentation(m, stopped=True), timeout=15)
    assert await sync_to_async(Presentation.objects.filter(ended_at__isnull=True).count)() == 0
