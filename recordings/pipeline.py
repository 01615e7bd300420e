"""From segments to the verified MP4: progressive windows while the meeting runs, finalize on stop.

The media work itself is in `recordings.media` (pure PyAV, no Django); this module decides what
is due, runs it under the recording's work claim (recordings.services), and records the outcome.
Every step is idempotent: a task that runs twice, or is killed and rerun, produces the same files
(the compositor is deterministic and writes by atomic rename) and the same rows.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from recordings import services
from recordings.media.assemble import AudioPiece, assemble
from recordings.media.audio import encode_audio_window, on_audio_grid
from recordings.media.compositor import compose_window
from recordings.media.timeline import SegmentRef, TrackInput, TrackKind
from recordings.models import Fragment, Recording, Segment, Track
from recordings.spool import get_spool
from recordings.windows import FPS, cut_timeline, on_grid, recorded_duration, timeline_origin

logger = logging.getLogger(__name__)

S = Recording.State
COMPOSE_WINDOW_TASK = "recordings.tasks.compose_window"
# Track.Kind as recordings.media names it (the track_kind_valid constraint keeps the column to these two).
MEDIA_KINDS: dict[str, TrackKind] = {Track.Kind.CAMERA: "camera", Track.Kind.SCREEN: "screen"}
# Share of the progress bar for the windows (picture and sound); assembly ends at services.ASSEMBLED.
COMPOSE_SHARE = 92


def work_dir(recording: Recording) -> Path:
    path = Path(settings.WORK_DIR) / str(recording.uid)
    (path / "fragments").mkdir(parents=True, exist_ok=True)
    return path


def fragment_path(recording: Recording, index: int) -> Path:
    return work_dir(recording) / "fragments" / f"{index:06d}.mp4"


def audio_fragment_path(recording: Recording, index: int) -> Path:
    return work_dir(recording) / "fragments" / f"{index:06d}.m4a"


def track_inputs(recording: Recording) -> list[TrackInput]:
    """Every track with its segments, on the output timeline (0 is the video's first frame)."""
    origin = timeline_origin(recording)
    spool = get_spool()
    by_track: dict[int, list[SegmentRef]] = {}
    kinds: dict[int, TrackKind] = {}
    segments = Segment.objects.filter(track__recording=recording).select_related("track").order_by("track_id", "seq")
    for segment in segments:
        kinds[segment.track_id] = MEDIA_KINDS[segment.track.kind]
        by_track.setdefault(segment.track_id, []).append(
            SegmentRef(path=str(spool.path(segment.path)), start=segment.start - origin, duration=segment.duration)
        )
    # Zero-padded ids: the layout breaks ties between tracks that start together by id as text,
    # and "10" < "9" would put a later joiner first.
    tracks = [
        TrackInput(track_id=f"{track_id:010d}", kind=kinds[track_id], segments=tuple(refs))
        for track_id, refs in sorted(by_track.items())
    ]
    # A paused recording: the tracks move onto the output timeline, the paused spans cut out
    # (decision 0022); the compositor and the mixer then work as for any recording.
    cuts = cut_timeline(recording)
    return tracks if cuts is None else cuts.cut_tracks(tracks)


# --- Progressive windows -----------------------------------------------------------------------


def schedule_due_windows(*, now: datetime | None = None) -> int:
    """Create and queue the windows that are due for every capturing recording (run by the sweep)."""
    capturing = Recording.objects.filter(state__in=(S.RECORDING, S.STOPPING), started_at__isnull=False)
    return sum(services.schedule_windows(recording=recording, now=now) for recording in capturing)


def compose_fragment(fragment_id: int, *, wait: bool = False) -> Fragment | None:
    """Compose one window, picture and sound, unless done and on disk (idempotent; safe after a kill).

    Under the window's claim: a duplicate task finds another worker's fresh heartbeat and returns
    None, unless `wait` (finalize, which needs the window) makes it wait for that worker to finish
    or to die (its heartbeat going stale).
    """
    fragment = Fragment.objects.select_related("recording").filter(pk=fragment_id).first()
    if fragment is None:
        return None
    recording = fragment.recording
    out = fragment_path(recording, fragment.index)
    audio_out = audio_fragment_path(recording, fragment.index)
    while not services.claim_window(fragment_id=fragment_id):
        if not wait:
            return None
        time.sleep(0.25)
        fragment.refresh_from_db()
        if fragment.state == Fragment.State.DONE and out.exists() and audio_out.exists():
            return fragment
    fragment.refresh_from_db()
    if fragment.state == Fragment.State.DONE and out.exists() and audio_out.exists():
        services.release_window(fragment_id=fragment_id)
        return fragment
    try:
        with services.keep_window_alive(fragment_id=fragment_id):
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
    except BaseException:
        services.release_window(fragment_id=fragment_id)
        raise
    problems = [
        {"track": p.track_id, "start": p.start, "end": p.end, "reason": p.reason}
        for p in sorted({*report.problems, *audio.problems}, key=lambda p: (p.track_id, p.start, p.reason))
    ]
    for problem in problems:
        logger.warning("recording %s window %s: %s", recording.pk, fragment.index, problem)
    services.window_done(fragment_id=fragment.pk, path=str(out), report={"frames": report.frames, "problems": problems})
    fragment.refresh_from_db()
    return fragment


# --- Finalize -----------------------------------------------------------------------------------


def _compose_and_assemble(recording: Recording) -> tuple[Path, float]:
    """Every window composed (those done while the meeting ran are kept), then the verified MP4."""
    duration = recorded_duration(recording)
    if duration is None:
        raise RuntimeError("The recording has no media timeline (it never captured anything).")
    window = settings.COMPOSE_WINDOW_SECONDS
    count = max(int(math.ceil(duration / window - 1e-9)), 1)
    fragments: list[str] = []
    sound: list[AudioPiece] = []
    for index in range(count):
        start, end = on_grid(index * window), on_grid(min((index + 1) * window, duration))
        fragment, _ = Fragment.objects.get_or_create(
            recording=recording, index=index, defaults={"start": start, "end": end}
        )
        if (fragment.start, fragment.end) != (start, end):  # a full window cut short by Stop
            Fragment.objects.filter(pk=fragment.pk).update(start=start, end=end, state=Fragment.State.PENDING)
        composed = compose_fragment(fragment.pk, wait=True)
        assert composed is not None
        fragments.append(str(composed.path))
        sound.append(AudioPiece(str(audio_fragment_path(recording, index)), on_audio_grid(start)))
        progress = int(COMPOSE_SHARE * (index + 1) / count)
        services.beat(recording_id=recording.pk, step=Recording.Step.FINALIZE, progress=progress)
    Fragment.objects.filter(recording=recording, index__gte=count).delete()
    final = work_dir(recording) / "final.mp4"
    info = assemble(fragments, sound, str(final), expected_duration=duration)
    if not info.moov_first or (info.width, info.height) != (1920, 1080):
        raise RuntimeError(f"The final file did not verify: {info}")
    return final, duration


def finalize(recording_id: int) -> Recording | None:
    """Compose the windows left (picture and sound), remux into the verified MP4, then hand on.

    Runs under the FINALIZE claim: a duplicate delivery, or the sweep's requeue while this worker
    is alive, finds the claim fresh and does nothing.
    """
    step = Recording.Step.FINALIZE
    if not services.claim_step(recording_id=recording_id, step=step):
        return None
    recording = Recording.objects.get(pk=recording_id)
    try:
        # The heartbeat comes from a helper thread, so a long window encode never looks like death.
        with services.keep_claim_alive(recording_id=recording_id, step=step):
            final, duration = _compose_and_assemble(recording)
    except Exception as exc:  # the reason goes to the admin and the hosts; the segments stay for a retry
        logger.exception("finalize failed for recording %s", recording_id)
        services.step_failed(recording_id=recording_id, step=step, error=str(exc))
        return None
    return services.finish_finalize(recording_id=recording_id, output_path=str(final), duration=duration)


def retry_from_segments(recording: Recording) -> Recording | None:
    """Admin action: throw away composed work and process again from the stored segments."""
    recording.refresh_from_db(fields=["state"])
    if recording.state not in services.sources_of(S.PROCESSING):
        return None  # being worked on (or capturing): its files are in use
    # Before the state moves: finalize is queued on commit and (eagerly) may run at once.
    shutil.rmtree(Path(settings.WORK_DIR) / str(recording.uid), ignore_errors=True)
    with transaction.atomic():
        Fragment.objects.filter(recording=recording).delete()
        return services.reprocess(recording_id=recording.pk)
