"""Realtime "your recording is available" events, built and sent in one place.

Sent to the person's own group (`user.<id>`, named from ids only) after the publish
transaction commits; the RoomConsumer forwards them to a browser still in the room. The
RecordingNotice row is the durable copy shown on the next page load, so a lost event
(Redis blip, nobody connected) costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from media_library.models import RecordingNotice
from meetings.events import user_group

logger = logging.getLogger(__name__)

EVENT_TYPE = "recording.available"
AVAILABLE_TEXT = "Your recording file is available"
OWNER_ONLY_TEXT = "The recording is available to its owner"

Message = dict[str, Any]


def notice_text(notice: RecordingNotice) -> str:
    return AVAILABLE_TEXT if notice.entry_id else OWNER_ONLY_TEXT


def recording_available_message(notice: RecordingNotice) -> Message:
    """The channel-layer message; `type` routes it to RoomConsumer.recording_available."""
    return {
        "type": EVENT_TYPE,
        "recording_id": notice.recording_id,
        "entry_id": notice.entry_id,
        "url": reverse("media_library:entry", args=[notice.entry_id]) if notice.entry_id else None,
        "text": notice_text(notice),
        # Lets the room page mark the notice seen, so it is not shown again on the next page load.
        "notice_id": notice.pk,
        "seen_url": reverse("media_library:notice_seen", args=[notice.pk]),
    }


def _send_now(messages: list[tuple[str, Message]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()
    except Exception:  # the notice rows stay; a lost live event must never fail the publish
        logger.exception("could not send %s recording.available events", len(messages))


def send_recording_available_on_commit(notices: Iterable[RecordingNotice]) -> None:
    """Queue one event per notice, sent only if the surrounding transaction commits."""
    messages = [(user_group(notice.user_id), recording_available_message(notice)) for notice in notices]
    if messages:
        transaction.on_commit(lambda: _send_now(messages))
