"""Realtime "your recording is available" events, built from the catalogue (core.events).

Sent to each person's own group (`user.<id>`) after the publish transaction commits; the room's
socket forwards them to a browser still in the room. The RecordingNotice row is the durable copy
shown on the next page load, so a lost event (Redis blip, nobody connected) costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from core import events
from core.events import FileAvailable
from media_library.models import RecordingNotice
from media_library.notices import TEXTS


def notice_text(notice: RecordingNotice) -> str:
    return TEXTS.text("file_available" if notice.entry_id else "file_available_owner_only")


def file_available(notice: RecordingNotice) -> FileAvailable:
    return FileAvailable(
        recording_id=notice.recording_id,
        entry_id=notice.entry_id,
        url=reverse("media_library:entry", args=[notice.entry_id]) if notice.entry_id else None,
        text=notice_text(notice),
        # Lets the room page mark the notice seen, so it is not shown again on the next page load.
        notice_id=notice.pk,
        seen_url=reverse("media_library:notice_seen", args=[notice.pk]),
    )


def send_recording_available_on_commit(notices_: Iterable[RecordingNotice]) -> None:
    """One event per notice, sent only if the surrounding transaction commits."""
    events.send_many_on_commit([(events.user_group(n.user_id), file_available(n)) for n in notices_])
