"""Reads of the recordings app."""

from __future__ import annotations

from django.db.models import Count

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
