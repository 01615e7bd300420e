"""End to end in real Chromium: record ~20 s, stop, get the file, play it, share it."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from media_library.models import MediaEntry
from recordings.models import Recording
from tests.browser.conftest import notice, start_recording

pytestmark = pytest.mark.browser

AVAILABLE = "Your recording file is available"


def assert_plays(page) -> None:
    """The page's video starts and its currentTime advances (real decoding in Chromium)."""
    video = page.locator("video").first
    expect(video).to_be_visible()
    page.evaluate("v => { v.muted = true; return v.play(); }", video.element_handle())
    page.wait_for_function("v => v.currentTime > 1.0", arg=video.element_handle(), timeout=20000)
    # And it seeks: HTTP Range on the file system backend.
    page.evaluate("v => { v.currentTime = 12; }", video.element_handle())
    page.wait_for_function("v => v.currentTime >= 12 && v.readyState >= 2", arg=video.element_handle(), timeout=20000)


def test_record_publish_play_and_share(live, demo, sign_in, join_room) -> None:
    room = demo.rooms["single"]
    host, participant = join_room(room, "host", "participant")

    start_recording(host)
    for page in (host, participant):
        expect(notice(page, "This session is being recorded")).to_be_visible(timeout=20000)
    time.sleep(18)  # about 20 s of meeting
    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Stop recording").click()
    host.get_by_role("dialog", name="Stop recording?").get_by_role("button", name="Stop recording").click()
    expect(notice(host, "Recording ended, starting upload")).to_be_visible(timeout=10000)
    expect(notice(participant, "The recording has completed")).to_be_visible(timeout=10000)

    # Processed and stored: the host is told live, in the room, with a link.
    available = notice(host, AVAILABLE)
    expect(available).to_be_visible(timeout=120000)
    recording = Recording.objects.get(room=room)
    assert recording.state == "available"
    entry = MediaEntry.objects.get(source_recording=recording)
    assert entry.title.startswith("Rec - ") and entry.title.endswith(" - Weekly planning")
    assert 17 <= entry.duration <= 30
    expect(notice(participant, AVAILABLE)).to_have_count(0)  # no access, so no link for the participant

    # From the notice's link.
    available.get_by_role("link", name="Open").click()
    host.wait_for_url(f"{live.url}/media/{entry.pk}/")
    assert_plays(host)

    # From My Media.
    host.goto(f"{live.url}/my-media/")
    host.get_by_role("link", name=entry.title).first.click()
    host.wait_for_url(f"{live.url}/media/{entry.pk}/")
    assert_plays(host)

    # From the room's Media and Files, Recordings folder.
    host.goto(f"{live.url}/rooms/{room.pk}/media/")
    host.get_by_role("link", name="Recordings").first.click()
    host.get_by_role("link", name=entry.title).first.click()
    host.wait_for_url(f"{live.url}/media/{entry.pk}/?from=room:{room.pk}")  # the breadcrumb leads back there
    assert_plays(host)

    # The participant and an outsider cannot open it.
    response = participant.goto(f"{live.url}/media/{entry.pk}/")
    assert response.status == 404
    outsider = sign_in("outsider")
    assert outsider.goto(f"{live.url}/media/{entry.pk}/").status == 404
    assert outsider.goto(f"{live.url}/media/{entry.pk}/stream/").status == 404

    # A share link lets the outsider watch.
    host.goto(f"{live.url}/media/{entry.pk}/")
    host.get_by_role("button", name="Create link").click()
    link = host.get_by_label("Share link").first.input_value()
    assert "/s/" in link
    outsider.goto(link)
    assert_plays(outsider)
