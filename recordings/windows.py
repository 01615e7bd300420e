"""A recording's timeline and its composition windows: reads and one small write, no work queued.

Shared by the services (ingest re-opens windows a late segment touches; processing needs the
duration) and the pipeline (which composes the windows). Kept apart so neither imports the other
in a circle.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from recordings.media.audio import AAC_FRAME, POSTROLL_FRAMES, PREROLL_FRAMES, SAMPLE_RATE
from recordings.models import Fragment, Recording, Segment

FPS = 30
# A window's audio encode reads this far past its edges (see recordings/media/audio.py).
AUDIO_PREROLL_S = PREROLL_FRAMES * AAC_FRAME / SAMPLE_RATE
AUDIO_POSTROLL_S = POSTROLL_FRAMES * AAC_FRAME / SAMPLE_RATE


def on_grid(seconds: float) -> float:
    """Window bounds on the 1/fps grid, so fragments tile the timeline frame-exactly."""
    return round(seconds * FPS) / FPS


def timeline_origin(recording: Recording) -> float:
    """Seconds after Start (the ingest timeline's 0) where the video begins: the first media."""
    if recording.started_at is None:
        return 0.0
    return on_grid(max((recording.started_at - recording.created_at).total_seconds(), 0.0))


def recorded_duration(recording: Recording) -> float | None:
    """Length of the final video: from the first media to Stop."""
    if recording.started_at is None or recording.stopped_at is None:
        return None
    return max(on_grid((recording.stopped_at - recording.started_at).total_seconds()), 1.0 / FPS)


def due_windows(recording: Recording, *, now: datetime | None = None) -> int:
    """How many whole windows have closed long enough ago that all their media has arrived."""
    if recording.started_at is None:
        return 0
    now = now or timezone.now()
    window = settings.COMPOSE_WINDOW_SECONDS
    lag = settings.SEGMENT_SECONDS + settings.COMPOSE_LATE_MARGIN_SECONDS
    settled = (now - recording.started_at).total_seconds() - lag
    if recording.stopped_at is not None:  # nothing after Stop; finalize composes the tail
        settled = min(settled, (recording.stopped_at - recording.started_at).total_seconds())
    return max(int(math.floor(settled / window)), 0)


def invalidate_windows(*, segment: Segment, recording: Recording) -> int:
    """A segment arrived after its windows were composed (a reconnecting browser): compose them again.

    Also the neighbours whose audio pre- or post-roll reads those seconds, so every join still fits.
    A segment that ends after every window composed so far can touch none: no query (the usual case,
    a segment arriving on time).
    """
    origin = timeline_origin(recording)
    start = segment.start - origin
    end = start + (segment.duration or settings.SEGMENT_SECONDS)
    composed_until = due_windows(recording) * settings.COMPOSE_WINDOW_SECONDS
    if start - AUDIO_POSTROLL_S >= composed_until:
        return 0
    return Fragment.objects.filter(
        recording=recording,
        state=Fragment.State.DONE,
        start__lt=end + AUDIO_PREROLL_S,
        end__gt=start - AUDIO_POSTROLL_S,
    ).update(state=Fragment.State.PENDING)
