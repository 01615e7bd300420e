"""Reads of the recordings app."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.db.models.functions import Coalesce

from meetings.models import Room
from recordings.models import Recording


def active_recording(*, room_id: int) -> Recording | None:
    """The room's recording while capture is under way or just stopped (at most one)."""
    return Recording.objects.active().filter(room_id=room_id).first()


def held_recordings(*, room: Room) -> list[Recording]:
    """A broadcast room's recordings waiting for the room to be closed (shown to its hosts)."""
    if room.mode != Room.Mode.BROADCAST:
        return []
    held = Recording.objects.held().filter(room=room).order_by("-created_at")
    return list(held.only("uid", "created_at", "duration"))


def held_counts(*, room_ids: list[int]) -> dict[int, int]:
    """How many held recordings each of these rooms has (rooms without any are left out)."""
    rows = Recording.objects.held().filter(room_id__in=room_ids).values("room_id").annotate(n=Count("pk"))
    return {row["room_id"]: row["n"] for row in rows}


def held_count(*, room: Room) -> int:
    return Recording.objects.held().filter(room=room).count()


def counts_by_state() -> dict[str, int]:
    """How many recordings are in each state, every state named (0 for none): the metrics endpoint's gauge."""
    counts = dict.fromkeys(Recording.State.values, 0)
    for row in Recording.objects.order_by().values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    return counts


def oldest_processing_since() -> datetime | None:
    """When the recording longest in processing was stopped (its Stop starts the wait for the file), or None."""
    return (
        Recording.objects.filter(state=Recording.State.PROCESSING)
        .annotate(since=Coalesce("stopped_at", "created_at"))
        .order_by("since")
        .values_list("since", flat=True)
        .first()
    )
