"""Segments in the spool become one verified 1080p MP4, progressively and crash-safely."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from recordings import pipeline, services, windows
from recordings.media.assemble import probe
from recordings.models import Fragment, Recording
from tests.live.conftest import database_url
from tests.pipeline.conftest import Part, build_recording

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def frames_at(path: str, times: list[float]) -> list[np.ndarray]:
    """RGB frames of the MP4 nearest the given seconds."""
    wanted = sorted(times)
    found: list[np.ndarray] = []
    with av.open(path) as container:
        for frame in container.decode(video=0):
            if wanted and frame.time >= wanted[0] - 1e-3:
                found.append(frame.to_ndarray(format="rgb24"))
                wanted.pop(0)
            if not wanted:
                break
    return found


def audio_rms(path: str, start: float, end: float) -> float:
    chunks = []
    with av.open(path) as container:
        for frame in container.decode(audio=0):
            if start <= frame.time < end:
                chunks.append(frame.to_ndarray().astype(np.float64).ravel())
    return float(np.sqrt(np.mean(np.concatenate(chunks) ** 2))) if chunks else 0.0


def test_stopped_recording_becomes_a_verified_1080p_mp4(demo, short_windows) -> None:
    # Red speaks (a tone) for 6 s, then a second red camera (another host) is silent; blue never speaks.
    parts = [
        Part("host", "red", start=1.0, count=1, tone_hz=440.0),
        Part("coeditor", "red", start=7.0, count=1, tone_hz=None),
        Part("participant", "blue", start=1.0, count=2, tone_hz=None),
    ]
    recording = build_recording(demo, parts, stop_at=13.0)
    assert windows.recorded_duration(recording) == pytest.approx(12.0)
    services.begin_processing(recording_id=recording.pk)  # tasks run eagerly in tests: finalize, publish
    recording.refresh_from_db()
    assert recording.state == "available", recording.error
    info = probe(recording.output_path)
    assert (info.width, info.height) == (1920, 1080)
    assert info.fps == pytest.approx(30.0)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert abs(info.duration - 12.0) <= 0.5
    assert info.moov_first
    assert Fragment.objects.filter(recording=recording, state="done").count() == 3  # 4 s windows

    # Two webcams side by side: red on the left, blue on the right (sampled mid-tile).
    (frame,) = frames_at(recording.output_path, [3.0])
    left, right = frame[540, 480].astype(int), frame[540, 1440].astype(int)
    assert left[0] > 150 and left[2] < 100, left
    assert right[2] > 150 and right[0] < 100, right
    # Audio where someone spoke, silence elsewhere.
    assert audio_rms(recording.output_path, 0.5, 5.0) > 0.02
    assert audio_rms(recording.output_path, 7.0, 11.5) < 0.002


def test_windows_are_composed_while_the_meeting_runs(demo, short_windows, settings) -> None:
    settings.SEGMENT_SECONDS = 6.0
    settings.COMPOSE_LATE_MARGIN_SECONDS = 1.0
    recording = build_recording(demo, [Part("host", "red", start=0.5, count=3)], stop_at=18.5)
    Recording.objects.filter(pk=recording.pk).update(state="recording", stopped_at=None)
    recording.refresh_from_db()
    began = recording.started_at
    # A window is due once it closed one segment length plus the margin ago: [0,4) at 4 + 6 + 1 = 11 s.
    assert windows.due_windows(recording, now=began + timedelta(seconds=10.9)) == 0
    assert windows.due_windows(recording, now=began + timedelta(seconds=13)) == 1
    assert pipeline.schedule_due_windows(now=began + timedelta(seconds=13)) == 1
    fragment = Fragment.objects.get(recording=recording)
    assert (fragment.index, fragment.state) == (0, "done") and Path(fragment.path).exists()
    assert pipeline.schedule_due_windows(now=began + timedelta(seconds=13)) == 0  # idempotent
    assert pipeline.schedule_due_windows(now=began + timedelta(seconds=15.1)) == 1  # the next one
    assert sorted(Fragment.objects.filter(state="done").values_list("index", flat=True)) == [0, 1]


def test_corrupt_segment_costs_only_its_seconds(demo, short_windows) -> None:
    parts = [
        Part("host", "red", start=1.0, count=3, length=4.0),
        Part("participant", "blue", start=1.0, count=3, length=4.0),
    ]
    recording = build_recording(demo, parts, stop_at=13.0, corrupt={("participant", 1)})
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.state == "available", recording.error
    info = probe(recording.output_path)
    assert abs(info.duration - 12.0) <= 0.5
    problems = [p for f in Fragment.objects.filter(recording=recording) for p in f.report.get("problems", [])]
    assert problems and all(4.0 - 0.1 <= p["start"] and p["end"] <= 8.0 + 0.1 for p in problems), problems
    # Outside the bad seconds, blue is there; red is there throughout.
    before, during, after = frames_at(recording.output_path, [2.0, 6.0, 10.0])
    for frame in (before, after):
        assert frame[540, 1440][2] > 150
    assert during[540, 480][0] > 150  # red unaffected


def test_an_arriving_segment_schedules_the_windows_that_became_due(demo, short_windows, settings) -> None:
    """Composition keeps up without the sweep (beat down): ingest itself creates and queues due windows."""
    settings.SEGMENT_SECONDS = 6.0
    settings.COMPOSE_LATE_MARGIN_SECONDS = 1.0
    settings.COMPOSE_FROM_INGEST = True
    recording = build_recording(demo, [Part("host", "red", start=0.5, count=3)], stop_at=18.5)
    Recording.objects.filter(pk=recording.pk).update(state="recording", stopped_at=None)
    recording.refresh_from_db()
    assert not Fragment.objects.filter(recording=recording).exists()  # nothing swept
    track = recording.tracks.get()
    last = track.segments.order_by("-seq").first()
    result = services.record_segment(
        recording=recording, user=demo.users["host"], client_id=track.client_id, kind="camera", seq=3,
        relpath=last.path, size=last.size, sha256="f" * 64, client_start_ms=None, duration=1.0,
    )  # fmt: skip
    assert result.created
    scheduled = Recording.objects.get(pk=recording.pk).windows_scheduled
    assert scheduled >= 2
    done = Fragment.objects.filter(recording=recording, state="done").values_list("index", flat=True)
    assert sorted(done) == list(range(scheduled))  # created by the upload, composed by its (eager) tasks


def _fragment_digest(path: str) -> list[str]:
    with av.open(path) as container:
        return [hashlib.md5(f.to_ndarray().tobytes()).hexdigest() for f in container.decode(video=0)]


def test_killed_composition_rerun_gives_the_same_fragment(demo, short_windows) -> None:
    recording = build_recording(
        demo,
        [
            Part("host", "red", start=0.0, count=2, length=4.0),
            Part("participant", "blue", start=0.0, count=2, length=4.0),
        ],
        stop_at=8.0,
    )
    Recording.objects.filter(pk=recording.pk).update(state="recording")
    fragment = Fragment.objects.create(recording=recording, index=0, start=0.0, end=8.0)
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="config.settings_test",
        TEST_RUN_DIR=str(settings.TEST_RUN_DIR),
        COMPOSE_PRESET="ultrafast",
    )
    code = f"import django; django.setup(); from recordings import pipeline; pipeline.compose_fragment({fragment.pk})"
    worker = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    # Kill it mid-run: once the encoder has written part of the fragment to its temp file.
    folder = pipeline.fragment_path(recording, 0).parent
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        partial = [p for p in folder.glob("000000.mp4.tmp-*") if p.stat().st_size > 20_000]
        if partial:
            break
        time.sleep(0.02)
    assert worker.poll() is None, "the composition finished before it could be killed"
    worker.send_signal(signal.SIGKILL)  # a worker killed for real, not simulated
    worker.wait()
    fragment.refresh_from_db()
    assert fragment.state == "pending"  # the kill left no "done" behind
    assert not pipeline.fragment_path(recording, 0).exists()  # nor a half file under the final name
    assert pipeline.compose_fragment(fragment.pk) is None  # its claim is fresh: not taken over yet
    stale = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS + 1)
    Fragment.objects.filter(pk=fragment.pk).update(heartbeat=stale)  # as the stale interval passes
    rerun = pipeline.compose_fragment(fragment.pk)
    assert rerun.state == "done"
    first = _fragment_digest(rerun.path)
    assert len(first) == 240  # 8 s at 30 fps
    Fragment.objects.filter(pk=fragment.pk).update(state="pending")
    again = pipeline.compose_fragment(fragment.pk)
    assert _fragment_digest(again.path) == first  # deterministic: the same inputs give the same frames


def test_processing_failure_is_recorded_and_can_be_retried(demo, short_windows) -> None:
    recording = build_recording(demo, [Part("host", "red", start=1.0, count=1, length=4.0)], stop_at=5.0)
    spool_file = Path(settings.SPOOL_DIR) / recording.tracks.get().segments.get().path
    original = spool_file.read_bytes()
    Recording.objects.filter(pk=recording.pk).update(started_at=None)  # a broken timeline: cannot finalize
    recording.refresh_from_db()
    Recording.objects.filter(pk=recording.pk).update(state="processing", work_step="finalize")  # finalize is due
    pipeline.finalize(recording.pk)
    recording.refresh_from_db()
    assert recording.state == "failed" and "Processing failed" in recording.error
    Recording.objects.filter(pk=recording.pk).update(started_at=recording.created_at + timedelta(seconds=1))
    recording.refresh_from_db()
    assert pipeline.retry_from_segments(recording) is not None
    recording.refresh_from_db()
    assert recording.state == "available" and recording.error == ""
    assert spool_file.read_bytes() == original  # a retry never touches the segments
