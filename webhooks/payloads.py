"""What each event says: the `data` of the Standard Webhooks payload {"type", "timestamp", "data"}.

The facts are read when the event happens (inside the change's transaction) and stored with it, so
every try sends the same facts. Only the download link of `recording.completed` is made at each
try: a signed link expires, and a try hours later must carry one that still works.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from media_library import signed_links
from media_library.models import MediaEntry
from meetings.models import Room
from recordings.models import Recording
from webhooks.models import Event, EventType


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def site_url(path: str) -> str:
    return f"{settings.WEBHOOK_SITE_URL}{path}"


def room_data(room: Room | None) -> dict[str, Any] | None:
    return {"id": room.pk, "title": room.title} if room is not None else None


def recording_data(recording: Recording) -> dict[str, Any]:
    """The recording and its room, as every recording.* event carries them."""
    return {
        "recording": {
            "id": str(recording.uid),
            "state": recording.state,
            "created_at": iso(recording.created_at),
            "started_at": iso(recording.started_at),
            "stopped_at": iso(recording.stopped_at),
            "stop_reason": recording.stop_reason or None,
            "duration": recording.duration,
        },
        "room": room_data(recording.room),
    }


def entry_data(entry: MediaEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "title": entry.title,
        "kind": entry.kind,
        "content_type": entry.content_type,
        "size": entry.size,
        "duration": entry.duration,
        "url": site_url(reverse("media_library:entry", args=[entry.pk])),
    }


def download_link(entry: MediaEntry) -> tuple[str | None, datetime | None]:
    """A credential-free link to the entry's file and when it stops working (None, None: no file).

    The media library's signed link (media_library.signed_links): the storage's own signed URL with
    S3, ours with the file system. It is made for the entry's owner, whose right to download is asked
    again at each fetch: a deleted entry, or an owner who lost access, kills the link.
    """
    if not entry.file.name:
        return None, None
    return signed_links.signed_download_url(entry=entry, user=entry.owner, absolute=site_url)


def with_fresh_links(event: Event) -> dict[str, Any]:
    """The event's stored data, plus links made now (recording.completed's download link)."""
    data: dict[str, Any] = json.loads(json.dumps(event.data))  # a copy: the stored facts stay as they are
    if event.type == EventType.RECORDING_COMPLETED and isinstance(data.get("entry"), dict):
        entry = MediaEntry.objects.filter(pk=data["entry"].get("id")).first()
        if entry is None:  # deleted since: the receiver hears entry.deleted too
            data["entry"]["download_url"], data["entry"]["download_url_expires_at"] = None, None
        else:
            url, expires_at = download_link(entry)
            data["entry"]["download_url"], data["entry"]["download_url_expires_at"] = url, iso(expires_at)
    return data


def body(event: Event) -> str:
    """The exact bytes (as text) that are signed and sent."""
    payload = {"type": event.type, "timestamp": iso(event.created_at), "data": with_fresh_links(event)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
