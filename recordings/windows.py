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
from recordings.media.cuts import CutTimeline
from recordings.models import Fragment, Recording, RecordingPause, Segment

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


def was_paused(recording: Recording) -> bool:
    """Whether the recording has paused spans (no query: the row says so)."""
    return recording.paused_at is not None or recording.paused_seconds > 0


def cut_timeline(recording: Recording) -> CutTimeline | None:
    """The recorded spans on the media timeline (0 = the first media), or None if never paused.

    Each bound is rounded to the frame grid from its own absolute instant (decision 0022), so
    cuts never accumulate rounding. The end is Stop (None while it runs).
    """
    if recording.started_at is None or not was_paused(recording):
        return None
    created = recording.created_at
    origin = round(timeline_origin(recording) * FPS)  # where the segments' 0 is (track_inputs)

    def frame(at: datetime) -> int:
        return round((at - created).total_seconds() * FPS) - origin

    pauses = [
        (frame(p.paused_at), frame(p.resumed_at) if p.resumed_at is not None else None)
        for p in RecordingPause.objects.filter(recording=recording).order_by("paused_at", "pk")
    ]
    end = frame(recording.stopped_at) if recording.stopped_at is not None else None
    return CutTimeline.build(pauses=pauses, end=end, fps=FPS)


def recorded_duration(recording: Recording) -> float | None:
    """Length of the final video: from the first media to Stop, without the paused spans."""
    if recording.started_at is None or recording.stopped_at is None:
        return None
    cuts = cut_timeline(recording)
    if cuts is not None:
        return max(cuts.duration_frames(), 1) / FPS
    return max(on_grid((recording.stopped_at - recording.started_at).total_seconds()), 1.0 / FPS)


def due_windows(recording: Recording, *, now: datetime | None = None) -> int:
    """How many whole windows have closed long enough ago that all their media has arrived.

    Windows tile the output timeline (paused spans cut out): the media instant that has settled
    is mapped onto it, so a pause holds the windows back and nothing is composed from a pause.
    """
    if recording.started_at is None:
        return 0
    now = now or timezone.now()
    window = settings.COMPOSE_WINDOW_SECONDS
    lag = settings.SEGMENT_SECONDS + settings.COMPOSE_LATE_MARGIN_SECONDS
    settled = (now - recording.started_at).total_seconds() - lag
    if recording.stopped_at is not None:  # nothing after Stop; finalize composes the tail
        settled = min(settled, (recording.stopped_at - recording.started_at).total_seconds())
    cuts = cut_timeline(recording)
    if cuts is not None:
        settled = cuts.to_output(settled)
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
    cuts = cut_timeline(recording)
    if cuts is not None:  # where those seconds are in the output (nowhere, if all in a pause)
        start, end = cuts.to_output(start), cuts.to_output(end)
        if end <= start:
            return 0
    composed_until = due_windows(recording) * settings.COMPOSE_WINDOW_SECONDS
    if start - AUDIO_POSTROLL_S >= composed_until:
        return 0
    return Fragment.objects.filter(
        recording=recording,
        state=Fragment.State.DONE,
        start__lt=end + AUDIO_PREROLL_S,
        end__gt=start - AUDIO_POSTROLL_S,
    ).update(state=Fragment.State.PENDING)
