"""Two real Chromium pages in one room: start, notices, indicator, stop, and media in the spool."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest
from django.conf import settings
from playwright.sync_api import expect

from recordings.media.assemble import probe
from recordings.models import Recording, Segment
from tests.browser.conftest import notice

pytestmark = pytest.mark.browser

STARTING = "Recording will start momentarily, please wait"
BEING_RECORDED = "This session is being recorded"
ENDED_LEADERS = "Recording ended, starting upload"
COMPLETED = "The recording has completed"


def decodes(path: Path) -> tuple[int, int]:
    """(video frames, audio frames) decoded from one segment on its own."""
    video = audio = 0
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                video += 1
            else:
                audio += 1
    return video, audio


def test_host_records_and_both_participants_are_captured(live, demo, sign_in, join_room) -> None:
    room = demo.rooms["single"]
    host, participant = join_room(room, "host", "participant")
    for page in (host, participant):
        expect(page.locator("#self-video")).to_be_visible()

    # Only hosts and moderators get the three-dots menu.
    expect(participant.locator("#btn-more")).to_have_count(0)
    host.get_by_role("button", name="More").click()
    host.get_by_role("menuitem", name="Record").click()
    dialog = host.get_by_role("dialog", name="Do you want to start recording?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Start Recording").click()

    for page in (host, participant):
        expect(notice(page, STARTING)).to_be_visible(timeout=10000)
    for page in (host, participant):
        expect(notice(page, BEING_RECORDED)).to_be_visible(timeout=20000)
        expect(page.locator("#rec-indicator")).to_be_visible()
    expect(host.locator("#rec-counter")).to_be_visible()
    expect(host.get_by_role("button", name="Stop recording")).to_be_visible()
    expect(participant.locator("#rec-counter")).to_have_count(0)
    expect(participant.locator("#rec-stop")).to_have_count(0)
    host.screenshot(path=str(Path(settings.VAR_DIR) / "room-host-recording.png"))
    participant.screenshot(path=str(Path(settings.VAR_DIR) / "room-participant-recording.png"))

    time.sleep(5)  # a full 4 s segment after the short first one
    counter = host.locator("#rec-counter").inner_text()
    assert counter >= "00:05", counter

    host.locator("#rec-stop").click()
    stop_dialog = host.get_by_role("dialog", name="Stop recording?")
    expect(stop_dialog).to_be_visible()
    red = stop_dialog.get_by_role("button", name="Stop recording")
    assert "btn-danger" in red.get_attribute("class")
    red.click()
    expect(notice(host, ENDED_LEADERS)).to_be_visible(timeout=10000)
    expect(notice(participant, COMPLETED)).to_be_visible(timeout=10000)
    expect(notice(participant, ENDED_LEADERS)).to_have_count(0)
    expect(host.locator("#rec-status")).to_be_hidden()

    recording = Recording.objects.get(room=room)
    deadline = time.monotonic() + 20
    users = set()
    while time.monotonic() < deadline:
        finals = Segment.objects.filter(track__recording=recording, track__ended=True)
        users = set(Segment.objects.filter(track__recording=recording).values_list("track__user__username", flat=True))
        if users == {"host", "participant"} and finals.values("track").distinct().count() == 2:
            break
        time.sleep(0.5)
    assert users == {"host", "participant"}
    for segment in Segment.objects.filter(track__recording=recording):
        video, audio = decodes(Path(settings.SPOOL_DIR) / segment.path)
        assert video > 0 and audio > 0, (segment.track.user.username, segment.seq)
    # Both final segments are in, so processing ran at once (tasks run eagerly in the live server).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        recording.refresh_from_db()
        if recording.state in ("available", "failed"):
            break
        time.sleep(0.5)
    assert recording.state == "available", recording.error
    info = probe(recording.output_path)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (1920, 1080, "h264", "aac")
    # Two webcams side by side: each tile shows the fake camera's bright picture, not black.
    with av.open(recording.output_path) as container:
        frame = next(f for f in container.decode(video=0) if f.time >= 2.0).to_ndarray(format="rgb24")
    for x in (480, 1440):
        assert frame[300:780, x - 200 : x + 200].mean() > 40, x
