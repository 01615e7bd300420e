"""Realtime events of a room: group names and sending after commit.

Group names come from ids only, never from user text. Every payload is a small
JSON dict with a `type`; the RoomConsumer forwards it to the browser as is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

Payload = dict[str, Any]


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def leaders_group(room_id: int) -> str:
    return f"room.{room_id}.leaders"


def participants_group(room_id: int) -> str:
    return f"room.{room_id}.participants"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _send_now(group: str, payload: Payload) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # Encoded once here rather than once per socket: a 1,000-person room sends 1,000 copies.
        async_to_sync(layer.group_send)(group, {"type": "room.event", "payload": payload, "text": json.dumps(payload)})
    except Exception:  # a notice lost to a Redis blip must never undo or crash the state change
        logger.exception("could not send %s to %s", payload.get("type"), group)


def send_on_commit(group: str, payload: Payload) -> None:
    """Send once the surrounding transaction commits, so nobody hears of a change that rolled back."""
    transaction.on_commit(lambda: _send_now(group, payload))


def notice(text: str, *, code: str, level: str = "info", **extra: Any) -> Payload:
    return {"type": "notice", "code": code, "text": text, "level": level, **extra}
