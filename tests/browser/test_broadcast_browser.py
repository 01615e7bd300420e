"""A broadcast room in real Chromium: preview, Go live, and the End dialog that closes the room."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from meetings.models import LiveSession, Room
from tests.browser.conftest import notice

pytestmark = pytest.mark.browser


def test_host_goes_live_and_closes_the_room(live, demo, join_room) -> None:
    room = demo.rooms["single"]
    Room.objects.filter(pk=room.pk).update(mode=Room.Mode.BROADCAST)
    host, viewer = join_room(room, "host", "participant")

    # Preview: both see it; only the host has Go live.
    for page in (host, viewer):
        expect(page.locator("#broadcast-state")).to_have_text("Preview")
    expect(viewer.locator("#btn-go-live")).to_have_count(0)
    host.get_by_role("button", name="Go live").click()
    for page in (host, viewer):
        expect(page.locator("#broadcast-state")).to_have_text("Live")
    expect(notice(viewer, "The broadcast is live.")).to_be_visible()
    expect(host.locator("#btn-go-live")).to_be_hidden()

    # Ending warns that the recording appears only if the room is closed, and offers to close it.
    host.get_by_role("button", name="End session for everyone").click()
    dialog = host.locator("#dlg-end")
    expect(dialog).to_contain_text("close the room completely")
    expect(dialog.get_by_role("button", name="End without closing")).to_be_visible()
    dialog.get_by_role("button", name="Close room and end").click()
    for page in (host, viewer):
        expect(page.locator("#ended-card")).to_contain_text("The host closed the room.")
    session = LiveSession.objects.get(room=room)
    assert session.state == LiveSession.State.ENDED and session.room_closed
