"""My Media at a phone's width: a failed recording's reason (a long URL) wraps, the page never scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from meetings.models import LiveSession
from recordings.models import Recording

LONG_REASON = "Publishing failed: Could not connect to the endpoint URL: " + "http://storage.internal/" + "x" * 120


def test_a_long_failure_reason_wraps_at_375_px(live, demo, sign_in) -> None:
    room, host = demo.rooms["single"], demo.users["host"]
    now = timezone.now()
    session = LiveSession.objects.create(room=room, started_at=now, max_end_at=now + timedelta(hours=1))
    Recording.objects.create(
        room=room, session=session, started_by=host, state=Recording.State.FAILED, started_at=now,
        cap_deadline=now, first_media_deadline=now, error=LONG_REASON,
    )  # fmt: skip
    page = sign_in("host")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live.url + "/my-media/")
    page.get_by_text("An administrator can retry it.").wait_for()
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"
