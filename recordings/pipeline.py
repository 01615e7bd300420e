"""From segments to the verified MP4: progressive windows while the meeting runs, finalize on stop.

The media work itself is in `recordings.media` (pure PyAV, no Django); this module
decides what is due, claims it in the database, and records the outcome. Every step
is idempotent: a task that runs twice, or is killed and rerun, produces the same files
(the compositor is deterministic and writes by atomic rename) and the same rows.
"""

from __future__ import annotations

import logging
import math
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recordings import events
from recordings.media.assemble import AudioPiece, assemble
from recordings.media.audio import (
    AAC_FRAME,
    POSTROLL_FRAMES,
    PREROLL_FRAMES,
    SAMPLE_RATE,
    encode_audio_window,
    on_audio_grid,
)
from recordings.media.compositor import compose_window
from recordings.media.timeline import SegmentRef, TrackInput
from recordings.models import Fragment, Recording, Segment
from recordings.spool import get_spool

logger = logging.getLogger(__name__)

FPS = 30
S = Recording.State
# Shares of the progress bar: windows (picture and sound), then assembly (publishing ends at 100).
COMPOSE_SHARE, ASSEMBLED = 92, 97
# A window's audio encode reads this far past its edges (see recordings/media/audio.py).
AUDIO_PREROLL_S = PREROLL_FRAMES * AAC_FRAME / SAMPLE_RATE
AUDIO_POSTROLL_S = POSTROLL_FRAMES * AAC_FRAME / SAMPLE_RATE


def _on_grid(seconds: float) -> float:
    """Window bounds on the 1/fps grid, so fragments tile the timeline frame-exactly."""
    return round(seconds * FPS) / FPS


def timeline_origin(recording: Recording) -> float:
    """Seconds after Start (the ingest timeline's 0) where the video begins: the first media."""
    if recording.started_at is None:
        return 0.0
    return _on_grid(max((recording.started_at - recording.created_at).total_seconds(), 0.0))


def recorded_duration(recording: Recording) -> float | None:
    """Length of the final video: from the first media to Stop."""
    if recording.started_at is None or recording.stopped_at is None:
        return None
    return max(_on_grid((recording.stopped_at - recording.started_at).total_seconds()), 1.0 / FPS)


def work_dir(recording: Recording) -> Path:
    path = Path(settings.WORK_DIR) / str(recording.uid)
    (path / "fragments").mkdir(parents=True, exist_ok=True)
    return path


def fragment_path(recording: Recording, index: int) -> Path:
    return work_dir(recording) / "fragments" / f"{index:06d}.mp4"


def audio_fragment_path(recording: Recording, index: int) -> Path:
    return work_dir(recording) / "fragments" / f"{index:06d}.m4a"


def track_inputs(recording: Recording) -> list[TrackInput]:
    """Every track with its segments, on a timeline whose 0 is the video's first frame."""
    origin = timeline_origin(recording)
    spool = get_spool()
    by_track: dict[int, list[SegmentRef]] = {}
    kinds: dict[int, str] = {}
    segments = Segment.objects.filter(track__recording=recording).select_related("track").order_by("track_id", "seq")
    for segment in segments:
        kinds[segment.track_id] = segment.track.kind
        by_track.setdefault(segment.track_id, []).append(
            SegmentRef(path=str(spool.path(segment.path)), start=segment.start - origin, duration=segment.duration)
        )
    # Zero-padded ids: the layout breaks ties between tracks that start together by id as text,
    # and "10" < "9" would put a later joiner first.
    return [
        TrackInput(track_id=f"{track_id:010d}", kind=kinds[track_id], segments=tuple(refs))  # type: ignore[arg-type]
        for track_id, refs in sorted(by_track.items())
    ]


# --- Progressive windows -----------------------------------------------------------------------


def due_windows(recording: Recording, *, now=None) -> int:
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


def schedule_due_windows(*, now=None) -> int:
    """Create and queue the windows that are due for every capturing recording (run by the sweep)."""
    from recordings.tasks import compose_window_task

    queued = 0
    window = settings.COMPOSE_WINDOW_SECONDS
    for recording in Recording.objects.filter(state__in=(S.RECORDING, S.STOPPING), started_at__isnull=False):
        due = due_windows(recording, now=now)
        have = set(recording.fragments.values_list("index", flat=True))
        for index in range(due):
            if index in have:
                continue
            fragment, created = Fragment.objects.get_or_create(
                recording=recording,
                index=index,
                defaults={"start": _on_grid(index * window), "end": _on_grid((index + 1) * window)},
            )
            if created:
                transaction.on_commit(lambda fid=fragment.pk: compose_window_task.delay(fid))
                queued += 1
    return queued


def compose_fragment(fragment_id: int) -> Fragment | None:
    """Compose one window, picture and sound, unless done and on disk (idempotent; safe after a kill)."""
    fragment = Fragment.objects.select_related("recording").filter(pk=fragment_id).first()
    if fragment is None:
        return None
    recording = fragment.recording
    out = fragment_path(recording, fragment.index)
    audio_out = audio_fragment_path(recording, fragment.index)
    if fragment.state == Fragment.State.DONE and out.exists() and audio_out.exists():
        return fragment
    tracks = track_inputs(recording)
    report = compose_window(
        tracks,
        start=fragment.start,
        end=fragment.end,
        out_path=str(out),
        fps=FPS,
        preset=settings.COMPOSE_PRESET,
        crf=settings.COMPOSE_CRF,
    )
    audio = encode_audio_window(tracks, start=fragment.start, end=fragment.end, out_path=str(audio_out))
    problems = [
        {"track": p.track_id, "start": p.start, "end": p.end, "reason": p.reason}
        for p in sorted({*report.problems, *audio.problems}, key=lambda p: (p.track_id, p.start, p.reason))
    ]
    for problem in problems:
        logger.warning("recording %s window %s: %s", recording.pk, fragment.index, problem)
    Fragment.objects.filter(pk=fragment.pk).update(
        state=Fragment.State.DONE,
        path=str(out),
        composed_at=timezone.now(),
        report={"frames": report.frames, "problems": problems},
    )
    fragment.refresh_from_db()
    return fragment


def invalidate_windows(*, segment: Segment, recording: Recording | None = None) -> int:
    """A segment arrived after its windows were composed (a reconnecting browser): compose them again.

    Also the neighbours whose audio pre- or post-roll reads those seconds, so every join still fits.
    A segment that ends after every window composed so far can touch none: no query (the usual case,
    a segment arriving on time).
    """
    recording = recording or segment.track.recording
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


# --- Finalize -----------------------------------------------------------------------------------


def schedule_finalize(recording: Recording) -> None:
    """Queue finalize after commit and note when, so the sweep can requeue one that got lost."""
    from recordings.tasks import finalize_recording_task

    Recording.objects.filter(pk=recording.pk).update(finalize_enqueued_at=timezone.now())
    transaction.on_commit(lambda: finalize_recording_task.delay(recording.pk))


def requeue_stalled_finalizes() -> int:
    """A worker killed mid-finalize leaves a stale heartbeat: queue it again (run by the sweep)."""
    stale = timezone.now() - timedelta(seconds=settings.FINALIZE_STALE_SECONDS)
    count = 0
    for recording in Recording.objects.filter(state=S.PROCESSING, finalize_enqueued_at__lt=stale).filter(
        Q(processing_heartbeat__isnull=True) | Q(processing_heartbeat__lt=stale)
    ):
        schedule_finalize(recording)
        count += 1
    return count


def _claim(recording_id: int) -> bool:
    """Only one worker finalizes a recording at a time; a stale claim (dead worker) can be taken over."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FINALIZE_STALE_SECONDS)
    return bool(
        Recording.objects.filter(pk=recording_id, state=S.PROCESSING)
        .filter(Q(processing_heartbeat__isnull=True) | Q(processing_heartbeat__lt=stale))
        .update(processing_heartbeat=now)
    )


def _beat(recording: Recording, progress: int) -> None:
    Recording.objects.filter(pk=recording.pk, state=S.PROCESSING).update(
        processing_heartbeat=timezone.now(), progress=progress
    )
    recording.progress = progress
    events.announce_progress(recording)


def finalize(recording_id: int) -> Recording | None:
    """Compose the windows left (picture and sound), remux into the verified MP4, then hand to publish."""
    from recordings import services

    if not _claim(recording_id):
        return None
    recording = Recording.objects.get(pk=recording_id)
    try:
        duration = recorded_duration(recording)
        if duration is None:
            raise RuntimeError("The recording has no media timeline (it never captured anything).")
        window = settings.COMPOSE_WINDOW_SECONDS
        count = max(int(math.ceil(duration / window - 1e-9)), 1)
        fragments: list[str] = []
        sound: list[AudioPiece] = []
        for index in range(count):
            start, end = _on_grid(index * window), _on_grid(min((index + 1) * window, duration))
            fragment, _ = Fragment.objects.get_or_create(
                recording=recording, index=index, defaults={"start": start, "end": end}
            )
            if (fragment.start, fragment.end) != (start, end):  # a full window cut short by Stop
                Fragment.objects.filter(pk=fragment.pk).update(start=start, end=end, state=Fragment.State.PENDING)
            fragments.append(str(compose_fragment(fragment.pk).path))
            sound.append(AudioPiece(str(audio_fragment_path(recording, index)), on_audio_grid(start)))
            _beat(recording, int(COMPOSE_SHARE * (index + 1) / count))
        Fragment.objects.filter(recording=recording, index__gte=count).delete()
        folder = work_dir(recording)
        info = assemble(fragments, sound, str(folder / "final.mp4"), expected_duration=duration)
        if not info.moov_first or (info.width, info.height) != (1920, 1080):
            raise RuntimeError(f"The final file did not verify: {info}")
        Recording.objects.filter(pk=recording.pk).update(
            output_path=str(folder / "final.mp4"),
            duration=duration,
            processed_at=timezone.now(),
            progress=ASSEMBLED,
            processing_heartbeat=timezone.now(),
        )
        recording.refresh_from_db()
        events.announce_progress(recording)
    except Exception as exc:  # the reason goes to the admin and the hosts; the segments stay for a retry
        logger.exception("finalize failed for recording %s", recording_id)
        services.fail_recording(
            recording_id=recording_id, error=f"Processing failed: {exc}", from_states=(S.PROCESSING,)
        )
        return None
    if services.hold_if_room_open(recording_id=recording.pk):
        return Recording.objects.get(pk=recording.pk)
    from media_library.tasks import enqueue_publish

    enqueue_publish(recording.pk)
    return recording


def retry_from_segments(recording: Recording) -> Recording | None:
    """Admin action: throw away composed work and process again from the stored segments."""
    from recordings import services

    retried = services.reprocess(recording_id=recording.pk)
    if retried is None:
        return None
    Fragment.objects.filter(recording=recording).delete()
    shutil.rmtree(Path(settings.WORK_DIR) / str(recording.uid), ignore_errors=True)
    schedule_finalize(retried)
    return retried
