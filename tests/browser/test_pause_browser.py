"""Pause and resume with two real Chromium pages (decision 0022): both are told and shown, the
counter stands still, the browsers stop uploading, and on resume the counter goes on from there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recordings.models import Recording, RecordingPause, Segment
from tests.browser.conftest import notice, start_recording

pytestmark = pytest.mark.browser

BEING_RECORDED = "This session is being recorded"
PAUSED = "Recording paused"  # docs/notices.md "Pause and resume"
RESUMED = "Recording resumed"


def segment_count(recording: Recording) -> int:
    return Segment.objects.filter(track__recording=recording).count()


def settled_segment_count(recording: Recording, quiet: float = 1.5, timeout: float = 10.0) -> int:
    """The segment count once no new row arrived for `quiet` seconds (the pieces flushed at Pause)."""
    count, since, end = segment_count(recording), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.25)
        now = segment_count(recording)
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return count
    raise AssertionError("segments kept arriving during the pause")


def seconds(counter: str) -> int:
    minutes, secs = counter.split(":")[-2:]
    return int(minutes) * 60 + int(secs)


def test_pause_and_resume_with_two_pages(live, demo, join_room) -> None:
    room = demo.rooms["single"]
    host, participant = join_room(room, "host", "participant")
    start_recording(host)
    for page in (host, participant):
        expect(notice(page, BEING_RECORDED)).to_be_visible(timeout=20000)
    expect(participant.get_by_role("button", name="Pause recording")).to_have_count(0)  # leaders only
    time.sleep(3)

    host.get_by_role("button", name="Pause recording").click()
    for page in (host, participant):
        expect(notice(page, PAUSED)).to_be_visible(timeout=10000)
        expect(page.locator("#rec-label")).to_have_text("Paused")
        expect(page.locator("#room")).to_have_attribute("data-capturing", "0")
    recording = Recording.objects.get(room=room)
    assert RecordingPause.objects.filter(recording=recording, resumed_at__isnull=True).count() == 1
    during = settled_segment_count(recording)
    frozen = host.locator("#rec-counter").inner_text()
    time.sleep(2)
    assert host.locator("#rec-counter").inner_text() == frozen  # the counter stands still
    assert segment_count(recording) == during  # nothing uploaded while paused
    if os.environ.get("SHOTS_DIR"):  # a look at the paused controls (docs: screenshots)
        for width in (1280, 375):
            host.set_viewport_size({"width": width, "height": 800})
            host.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / f"room-paused-{width}.png"))
        host.set_viewport_size({"width": 1366, "height": 800})

    # Resume from the three-dots menu: the counter goes on from where it stood.
    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Resume recording").click()
    for page in (host, participant):
        expect(notice(page, RESUMED)).to_be_visible(timeout=10000)
        expect(page.locator("#rec-label")).to_have_text("Recording")
        expect(page.locator("#room")).to_have_attribute("data-capturing", "1")
    resumed = seconds(host.locator("#rec-counter").inner_text())
    assert seconds(frozen) <= resumed <= seconds(frozen) + 1, (frozen, resumed)
    time.sleep(2)
    assert seconds(host.locator("#rec-counter").inner_text()) >= seconds(frozen) + 2
    # And the browsers upload again (the first segment after resuming).
    deadline = time.monotonic() + 15
    while segment_count(recording) == during and time.monotonic() < deadline:
        time.sleep(0.25)
    assert segment_count(recording) > during
