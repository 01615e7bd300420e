"""From segments to the verified MP4: progressive windows while the meeting runs, finalize on stop.

The media work itself is in `recordings.media` (pure PyAV, no Django); this module decides what
is due, runs it under the recording's work claim (recordings.services), and records the outcome.
Every step is idempotent: a task that runs twice, or is killed and rerun, produces the same files
(the compositor is deterministic and writes by atomic rename) and the same rows.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from recordings import fragments, services
from recordings.media.assemble import AudioPiece, assemble
from recordings.media.audio import encode_audio_window, on_audio_grid
from recordings.media.compositor import compose_window
from recordings.media.timeline import SegmentRef, TrackInput, TrackKind
from recordings.models import Fragment, Recording, Segment, Track
from recordings.spool import get_spool
from recordings.stage import stage_inputs
from recordings.windows import FPS, cut_timeline, on_grid, recorded_duration, timeline_origin

logger = logging.getLogger(__name__)

S = Recording.State
COMPOSE_WINDOW_TASK = "recordings.tasks.compose_window"
# Track.Kind as recordings.media names it (the track_kind_valid constraint keeps the column to these two).
MEDIA_KINDS: dict[str, TrackKind] = {Track.Kind.CAMERA: "camera", Track.Kind.SCREEN: "screen"}
# Share of the progress bar for the windows (picture and sound); assembly ends at services.ASSEMBLED.
COMPOSE_SHARE = 92


def work_dir(recording: Recording) -> Path:
    """The recording's directory in the local fragment store (one machine; unused with S3)."""
    return Path(settings.FRAGMENT_DIR or settings.WORK_DIR) / str(recording.uid)


def fragment_path(recording: Recording, index: int) -> Path:
    """Where the local fragment store keeps a window's picture (one machine; unused with S3)."""
    return work_dir(recording) / "fragments" / f"{index:06d}.mp4"


def audio_fragment_path(recording: Recording, index: int) -> Path:
    return work_dir(recording) / "fragments" / f"{index:06d}.m4a"


# Segments further than this from a window cannot change it: the presence bridge (1 s) and the audio
# pre-roll (~2 s) and post-roll reach less far. Only the segments within it are copied to a worker.
WINDOW_REACH_SECONDS = 5.0


def _segment_refs(recording: Recording) -> list[TrackInput]:
    """Every track with its segments on the recording's timeline; paths are spool paths (relative)."""
    origin = timeline_origin(recording)
    by_track: dict[int, list[SegmentRef]] = {}
    kinds: dict[int, TrackKind] = {}
    segments = Segment.objects.filter(track__recording=recording).select_related("track").order_by("track_id", "seq")
    for segment in segments:
        kinds[segment.track_id] = MEDIA_KINDS[segment.track.kind]
        by_track.setdefault(segment.track_id, []).append(
            SegmentRef(path=segment.path, start=segment.start - origin, duration=segment.duration)
        )
    # Zero-padded ids: the layout breaks ties between tracks that start together by id as text,
    # and "10" < "9" would put a later joiner first.
    return [
        TrackInput(track_id=f"{track_id:010d}", kind=kinds[track_id], segments=tuple(refs))
        for track_id, refs in sorted(by_track.items())
    ]


def _within_reach(refs: tuple[SegmentRef, ...], start: float, end: float) -> tuple[list[SegmentRef], set[int]]:
    """The refs a window can touch: all up to the first one past its reach, and which of them are opened.

    Earlier refs stay (the layout orders tracks by their first segment) but are never opened: the
    core skips, unprobed, a segment whose next-but-one starts before the window (timeline.track_spans),
    and `since` is taken earlier here than any caller of the core takes it. Later refs go, except the
    first one past the reach, whose start bounds the one before it.
    """
    ordered = sorted(refs, key=lambda r: (r.start, r.path))
    kept: list[SegmentRef] = []
    for ref in ordered:
        kept.append(ref)
        if ref.start >= end + WINDOW_REACH_SECONDS:
            break
    since = start - WINDOW_REACH_SECONDS
    opened = {i for i in range(len(kept)) if i + 2 >= len(kept) or kept[i + 2].start >= since - 1.0}
    return kept, opened


def track_inputs(recording: Recording, *, scratch: Path, window: tuple[float, float] | None = None) -> list[TrackInput]:
    """Every track with its segments, on the output timeline (0 is the video's first frame).

    The segment files are those of the spool: its own files when local, copies in `scratch` when
    in S3. With `window`, only the segments that window can touch are listed past it, and only
    those it opens are copied, so a worker fetches a window's worth of media, not the meeting's.
    """
    spool = get_spool()
    tracks = _segment_refs(recording)
    cuts = cut_timeline(recording)
    if cuts is not None:
        # The cut measures segments of unknown length: those must be readable before it.
        tracks = [
            TrackInput(
                track_id=t.track_id,
                kind=t.kind,
                segments=tuple(
                    replace(ref, path=str(spool.local_copy(ref.path, scratch))) if ref.duration is None else ref
                    for ref in t.segments
                ),
            )
            for t in tracks
        ]
        # A paused recording: the tracks move onto the output timeline, the paused spans cut out
        # (decision 0022); the compositor and the mixer then work as for any recording.
        tracks = cuts.cut_tracks(tracks)
    out: list[TrackInput] = []
    for track in tracks:
        if window is None:
            kept, opened = list(track.segments), set(range(len(track.segments)))
        else:
            kept, opened = _within_reach(track.segments, *window)
        refs = []
        for i, ref in enumerate(kept):
            local = Path(ref.path) if Path(ref.path).is_absolute() else None
            if local is None:
                local = spool.local_copy(ref.path, scratch) if i in opened else scratch / "unopened" / ref.path
            refs.append(replace(ref, path=str(local)))
        out.append(TrackInput(track_id=track.track_id, kind=track.kind, segments=tuple(refs)))
    return out


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
    store = fragments.get_store()
    key = fragments.fragment_key(str(recording.uid), fragment.index, ".mp4")
    audio_key = fragments.fragment_key(str(recording.uid), fragment.index, ".m4a")

    def stored() -> bool:
        return fragment.state == Fragment.State.DONE and store.exists(key) and store.exists(audio_key)

    if stored():  # composed already (finalize asks for every window): nothing to claim
        return fragment
    worker = fragments.worker_name()
    while not services.claim_window(fragment_id=fragment_id, by=worker):
        if not wait:
            return None
        time.sleep(0.25)
        fragment.refresh_from_db()
        if stored():
            return fragment
    fragment.refresh_from_db()
    if stored():
        services.release_window(fragment_id=fragment_id)
        return fragment
    began = time.monotonic()
    try:
        with services.keep_window_alive(fragment_id=fragment_id), fragments.scratch("window") as scratch:
            # Written into the store (local) or the scratch space (S3), then stored before "done".
            out, audio_out = store.writable(key, scratch), store.writable(audio_key, scratch)
            tracks = track_inputs(recording, scratch=scratch, window=(fragment.start, fragment.end))
            # What was presented on the stage in this window (recordings/stage.py), drawn from the stored items.
            stage, stage_problems = stage_inputs(
                recording, start=fragment.start, end=fragment.end, dest=scratch / "stage"
            )
            report = compose_window(
                tracks,
                start=fragment.start,
                end=fragment.end,
                out_path=str(out),
                fps=FPS,
                preset=settings.COMPOSE_PRESET,
                crf=settings.COMPOSE_CRF,
                stage=stage,
            )
            audio = encode_audio_window(
                tracks, start=fragment.start, end=fragment.end, out_path=str(audio_out), stage=stage
            )
            store.put(out, key)
            store.put(audio_out, audio_key)
    except BaseException:
        services.release_window(fragment_id=fragment_id)
        raise
    problems = [
        {"track": p.track_id, "start": p.start, "end": p.end, "reason": p.reason}
        for p in sorted(
            {*report.problems, *audio.problems, *stage_problems}, key=lambda p: (p.track_id, p.start, p.reason)
        )
    ]
    for problem in problems:
        logger.warning("recording %s window %s: %s", recording.pk, fragment.index, problem)
    services.window_done(
        fragment_id=fragment.pk,
        path=store.location(key),
        # "seconds": how long this worker took, fetching and storing included (admin, benchmarks).
        report={"frames": report.frames, "problems": problems, "seconds": round(time.monotonic() - began, 2)},
        composed_by=worker,
    )
    fragment.refresh_from_db()
    return fragment


# --- Finalize -----------------------------------------------------------------------------------


def _compose_and_assemble(recording: Recording, scratch: Path) -> tuple[str, float]:
    """Every window composed (those done while the meeting ran are kept), then the verified MP4.

    The windows may have been composed on other workers: they are read from the fragment store
    (copied into `scratch` when it is S3), and the MP4 goes back there, for publish to read.
    """
    duration = recorded_duration(recording)
    if duration is None:
        raise RuntimeError("The recording has no media timeline (it never captured anything).")
    store = fragments.get_store()
    uid = str(recording.uid)
    window = settings.COMPOSE_WINDOW_SECONDS
    count = max(int(math.ceil(duration / window - 1e-9)), 1)
    pictures: list[str] = []
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
        pictures.append(str(store.local_copy(fragments.fragment_key(uid, index, ".mp4"), scratch)))
        audio = store.local_copy(fragments.fragment_key(uid, index, ".m4a"), scratch)
        sound.append(AudioPiece(str(audio), on_audio_grid(start)))
        progress = int(COMPOSE_SHARE * (index + 1) / count)
        services.beat(recording_id=recording.pk, step=Recording.Step.FINALIZE, progress=progress)
    Fragment.objects.filter(recording=recording, index__gte=count).delete()
    key = fragments.final_key(uid)
    final = store.writable(key, scratch)
    info = assemble(pictures, sound, str(final), expected_duration=duration)
    if not info.moov_first or (info.width, info.height) != (1920, 1080):
        raise RuntimeError(f"The final file did not verify: {info}")
    store.put(final, key)
    return store.location(key), duration


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
        with services.keep_claim_alive(recording_id=recording_id, step=step), fragments.scratch("finalize") as scratch:
            final, duration = _compose_and_assemble(recording, scratch)
    except Exception as exc:  # the reason goes to the admin and the hosts; the segments stay for a retry
        logger.exception("finalize failed for recording %s", recording_id)
        services.step_failed(recording_id=recording_id, step=step, error=str(exc))
        return None
    return services.finish_finalize(recording_id=recording_id, output_path=final, duration=duration)


def retry_from_segments(recording: Recording) -> Recording | None:
    """Admin action: throw away composed work and process again from the stored segments."""
    recording.refresh_from_db(fields=["state", "media_removed_at"])
    if recording.state not in services.sources_of(S.PROCESSING):
        return None  # being worked on (or capturing): its files are in use
    if recording.media_removed_at is not None:
        return None  # published, and its segments removed since: nothing to process again from
    # Before the state moves: finalize is queued on commit and (eagerly) may run at once.
    fragments.get_store().remove_recording(str(recording.uid))
    with transaction.atomic():
        Fragment.objects.filter(recording=recording).delete()
        return services.reprocess(recording_id=recording.pk)
