"""Recordings with real synthetic segments in the spool, built the way ingest records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from loadtest.synthetic import make_webm_segment
from meetings import services as meeting_services
from recordings import services
from recordings.models import Recording, Segment, Track


@dataclass
class Part:
    """One participant's track: segments of `length` seconds from `start` on the ingest timeline."""

    username: str
    colour: str
    start: float
    count: int
    length: float = 6.0
    tone_hz: float | None = 440.0
    kind: str = "camera"
    width: int = 320
    height: int = 180


def build_recording(
    demo, parts: list[Part], *, stop_at: float, corrupt: set[tuple[str, int]] = frozenset()
) -> Recording:
    """A stopped recording whose segments are real WebM files in the spool (or garbage where asked)."""
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    # The meeting happened in the past, so no time below lands after "now" (which would be clamped).
    Recording.objects.filter(pk=recording.pk).update(created_at=timezone.now() - timedelta(seconds=stop_at + 30))
    recording.refresh_from_db()
    spool = Path(settings.SPOOL_DIR)
    first_media = min(p.start for p in parts)
    for part in parts:
        track = Track.objects.create(
            recording=recording,
            user=demo.users[part.username],
            kind=part.kind,
            client_id=f"{part.kind}-{part.username}",
        )
        for seq in range(part.count):
            rel = f"{recording.uid}/{track.client_id}/{seq:06d}.webm"
            path = spool / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if (part.username, seq) in corrupt:
                path.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 500)
            else:
                make_webm_segment(
                    path,
                    width=part.width,
                    height=part.height,
                    duration_s=part.length,
                    pattern="screen" if part.kind == "screen" else part.colour,
                    tone_hz=part.tone_hz,
                    start_frame_index=int(seq * part.length * 20),
                    time_offset_s=seq * part.length,
                    audio=part.kind != "screen",
                )
            Segment.objects.create(
                track=track,
                seq=seq,
                path=rel,
                size=path.stat().st_size,
                start=part.start + seq * part.length,
                duration=part.length,
                sha256=f"{seq:064d}",
            )
    origin = recording.created_at
    services.mark_capturing(recording_id=recording.pk, capture_began=origin + timedelta(seconds=first_media))
    recording.refresh_from_db()
    services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
    Recording.objects.filter(pk=recording.pk).update(stopped_at=origin + timedelta(seconds=stop_at))
    recording.refresh_from_db()
    return recording


@pytest.fixture
def short_windows(settings):
    settings.COMPOSE_WINDOW_SECONDS = 4.0
    settings.COMPOSE_PRESET = "ultrafast"
    return settings
