"""A reload, a crashed tab or a closed one in the middle of a segment loses at most about 1 s of media.

Real Chromium with fake devices against a live server whose segments are the product's 10 s
(the live suite's 4 s would hide the loss). The host records; 5.5 s into the first 10 s segment
the page is reloaded (or its renderer is killed, or the tab is closed, and the room is opened
again in a new tab of the same browser profile); the recording is stopped from the new page. On
the server, the first page's track must cover the timeline up to the moment the page went
within 1 s, its last (unfinished) piece must decode and be marked final, nothing may be refused
as a conflicting duplicate, and the recording must become available.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import av
import pytest
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from recordings.models import Recording, Segment
from tests.browser.conftest import notice, start_recording
from tests.live.conftest import LiveServer, live_env, start_daphne, stop_process

pytestmark = pytest.mark.browser

SEGMENT_SECONDS = 10
INTO_SEGMENT = 5.5  # seconds into the 10 s segment when the page goes
MAX_LOSS = 1.0  # seconds
BEING_RECORDED = "This session is being recorded"

T = TypeVar("T")


@pytest.fixture(scope="module")
def live_server_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[LiveServer]:
    """This module's own Daphne: the live suite's timings, but the product's 10 s segments."""
    log = tmp_path_factory.mktemp("daphne-reload") / "daphne.log"
    proc, server = start_daphne(live_env(SEGMENT_SECONDS=str(SEGMENT_SECONDS)), log)
    yield server
    stop_process(proc)


def wait_for(fn: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def decoded(path: Path) -> tuple[int, int, float]:
    """(video frames, audio frames, time of the last video frame) of one stored piece on its own."""
    video = audio = 0
    last = 0.0
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                video += 1
                last = max(last, frame.time or 0.0)
            else:
                audio += 1
    return video, audio, last


def open_room(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)


def kill_renderer(page: Any) -> None:
    """The tab crashes: its renderer process dies at once, no unload, nothing more is written."""
    crashed: list[bool] = []
    page.on("crash", lambda _page: crashed.append(True))
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Page.crash", timeout=1000)
    except PlaywrightError:
        pass  # no answer ever comes from a crashed renderer
    wait_for(lambda: crashed, timeout=10, what="the renderer to crash")


@pytest.mark.parametrize("how", ["reload", "crash", "close"])
def test_reload_or_crash_mid_segment_loses_at_most_a_second(live, demo, join_room, how) -> None:
    room = demo.rooms["single"]
    room_url = f"{live.url}/rooms/{room.pk}/"
    (host,) = join_room(room, "host")

    start_recording(host)
    expect(notice(host, BEING_RECORDED)).to_be_visible(timeout=20000)
    recording = Recording.objects.get(room=room)
    origin = recording.created_at.timestamp()

    # The short first segment is stored; the 10 s one began as it ended.
    first = wait_for(
        lambda: Segment.objects.filter(track__recording=recording, seq=0).select_related("track").first(),
        timeout=20,
        what="the first segment",
    )
    old_track = first.track
    began = origin + first.start + (first.duration or 0)
    time.sleep(max(0.0, began + INTO_SEGMENT - time.time()))

    refused: list[str] = []  # uploads the server refused (a 409 would be a conflicting duplicate)

    def watch(page: Any) -> None:
        page.on("console", lambda m: refused.append(m.text) if "segment dropped" in m.text else None)

    watch(host)
    gone_at = time.time()
    if how == "reload":
        page = host
        page.reload()
        expect(page.locator("#room")).to_have_attribute("data-ready", "1", timeout=15000)
    else:
        if how == "crash":
            kill_renderer(host)
        context = host.context
        host.close()  # a crashed tab's, or the tab closed at once (no beforeunload)
        page = context.new_page()
        watch(page)
        open_room(page, room_url)
    expect(page.locator("#room")).to_have_attribute("data-capturing", "1", timeout=15000)

    # The new page records under a track of its own; its uploads go oldest first, so once its
    # first segment is stored, whatever it queued of the old page's is stored too.
    wait_for(
        lambda: Segment.objects.filter(track__recording=recording).exclude(track=old_track).exists(),
        timeout=30,
        what="a segment of the new page",
    )

    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name="Stop recording").click()
    page.get_by_role("dialog", name="Stop recording?").get_by_role("button", name="Stop recording").click()

    # The old page's track covers the timeline up to the moment it went, within a second.
    segments = list(Segment.objects.filter(track=old_track).order_by("seq"))
    assert [s.seq for s in segments] == list(range(len(segments))), [s.seq for s in segments]
    gone = gone_at - origin  # on the recording's timeline (one machine: one clock)
    last = segments[-1]
    end = last.start + (last.duration or 0)
    covered = sum(s.duration or 0 for s in segments)
    missing_at_end = gone - end
    missing_in_all = (gone - segments[0].start) - covered
    print(
        f"\n{how}: {len(segments)} pieces, last (seq {last.seq}) {last.duration:.2f} s from {last.start:.2f} s, "
        f"ends {missing_at_end:.2f} s before the page went at {gone:.2f} s; "
        f"{missing_in_all:.2f} s missing from {segments[0].start:.2f} s on"
    )
    assert missing_at_end <= MAX_LOSS, f"{missing_at_end:.2f} s lost at the {how}"
    assert missing_in_all <= MAX_LOSS, f"{missing_in_all:.2f} s of the old track missing"

    # The unfinished piece is real media up to about the moment the page went.
    video, audio, last_frame = decoded(Path(settings.SPOOL_DIR) / last.path)
    assert video > 0 and audio > 0, (video, audio)
    assert last_frame >= (gone - last.start) - MAX_LOSS, (last_frame, gone - last.start)
    for segment in segments[:-1]:
        assert decoded(Path(settings.SPOOL_DIR) / segment.path)[0] > 0, segment.seq

    # The unfinished piece was the old track's last: the server need not wait for more of it.
    old_track.refresh_from_db()
    assert old_track.ended

    # The recording is composed and published.
    expect(notice(page, "Your recording file is available")).to_be_visible(timeout=180000)
    recording.refresh_from_db()
    assert recording.state == "available", recording.error
    assert refused == [], refused
