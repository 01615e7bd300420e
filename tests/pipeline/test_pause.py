"""A paused recording becomes one MP4 with the paused spans cut out, audio and video in sync.

About 60 s of synthetic media with three pauses (decision 0022): a camera that flashes white and
sounds a tone together at known instants. The browser here keeps uploading through the pauses
(the harder case: segments are cut inside), so the output must drop the paused media, last as
long as the recorded time, and show each flash with its tone after every cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from loadtest.synthetic import make_marker_segment
from meetings import services as meeting_services
from recordings import services, windows
from recordings.media.assemble import probe
from recordings.models import Recording, RecordingPause, Segment, Track

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_MEDIA = 1.0  # ingest seconds (since Start) of the first media
SEGMENT = 6.0
FLASH = 0.2


@dataclass(frozen=True)
class Meeting:
    recording: Recording
    markers: list[float]  # ingest seconds of every flash+tone (some fall in pauses)
    pauses: list[tuple[float, float]]  # ingest seconds


def build_paused_recording(
    demo, *, stop_at: float, pauses: list[tuple[float, float]], markers: list[float]
) -> Recording:
    """A stopped recording whose camera uploaded marker segments from FIRST_MEDIA to Stop, paused
    and resumed through the services, then moved into the past (as tests/pipeline build_recording)."""
    room = demo.rooms["single"]
    meeting_services.open_or_create_session(room=room)
    recording, _ = services.start_recording(room=room, user=demo.users["host"])
    created = timezone.now() - timedelta(seconds=stop_at + 30)
    Recording.objects.filter(pk=recording.pk).update(created_at=created)
    recording.refresh_from_db()
    track = Track.objects.create(recording=recording, user=demo.users["host"], kind="camera", client_id="camera-h")
    spool = Path(settings.SPOOL_DIR)
    seq, start = 0, FIRST_MEDIA
    while start < stop_at - 1e-6:
        length = min(SEGMENT, stop_at - start)
        rel = f"{recording.uid}/{track.client_id}/{seq:06d}.webm"
        (spool / rel).parent.mkdir(parents=True, exist_ok=True)
        inside = [round(m - start, 3) for m in markers if start <= m < start + length]
        make_marker_segment(spool / rel, duration_s=length, markers=inside, marker_s=FLASH)
        Segment.objects.create(
            track=track, seq=seq, path=rel, size=(spool / rel).stat().st_size, start=start, duration=length,
            sha256=f"{seq:064d}",
        )  # fmt: skip
        seq, start = seq + 1, start + length
    services.mark_capturing(recording_id=recording.pk, capture_began=created + timedelta(seconds=FIRST_MEDIA))
    for a, b in pauses:
        first = services.pause_recording(room_id=room.pk, by=demo.users["host"])
        again = services.pause_recording(room_id=room.pk, by=demo.users["host"])  # a double click
        assert first.changed and not again.changed
        services.resume_recording(room_id=room.pk, by=demo.users["host"])
        RecordingPause.objects.filter(pk=RecordingPause.objects.latest("pk").pk).update(
            paused_at=created + timedelta(seconds=a), resumed_at=created + timedelta(seconds=b)
        )
    recorded = sum(b - a for a, b in pauses)
    Recording.objects.filter(pk=recording.pk).update(paused_seconds=recorded)
    recording.refresh_from_db()
    services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
    Recording.objects.filter(pk=recording.pk).update(stopped_at=created + timedelta(seconds=stop_at))
    recording.refresh_from_db()
    return recording


def flash_times(path: str) -> list[float]:
    """Output seconds of each frame where the picture turns white (the centre of the stage)."""
    times: list[float] = []
    lit_before = False
    with av.open(path) as container:
        for frame in container.decode(video=0):
            luma = np.frombuffer(memoryview(frame.planes[0]), dtype=np.uint8)
            luma = luma.reshape(frame.planes[0].height, frame.planes[0].line_size)[400:680, 800:1120]
            lit = float(luma.mean()) > 150
            if lit and not lit_before:
                times.append(float(frame.time or 0.0))
            lit_before = lit
    return times


def tone_onsets(path: str) -> list[float]:
    """Output seconds where the tone starts after at least 0.1 s of silence."""
    with av.open(path) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [f.to_ndarray() for f in container.decode(stream)]
    mono = np.abs(np.concatenate(chunks, axis=1)).max(axis=0)
    loud = np.flatnonzero(mono > 0.1)
    onsets: list[float] = []
    last = -(10**9)
    for i in loud:
        if i - last > 0.1 * rate:
            onsets.append(i / rate)
        last = i
    return onsets


def test_paused_spans_are_cut_out_and_every_cut_keeps_audio_and_video_in_sync(demo, short_windows) -> None:
    pauses = [(12.4, 18.0), (27.7, 33.3), (42.1, 46.9)]
    stop_at = 61.0
    # A marker every 1.5 s on the 0.1 s grid, none astride a cut; the ones in a pause must not appear.
    every = [round(2.0 + 1.5 * k, 1) for k in range(40) if 2.0 + 1.5 * k < stop_at - 1.0]
    markers = [m for m in every if all(abs(m - x) > 0.3 and abs(m + FLASH - x) > 0.3 for p in pauses for x in p)]
    recording = build_paused_recording(demo, stop_at=stop_at, pauses=pauses, markers=markers)
    recorded = (stop_at - FIRST_MEDIA) - sum(b - a for a, b in pauses)  # 44 s
    assert windows.recorded_duration(recording) == pytest.approx(recorded, abs=1 / 30)

    services.begin_processing(recording_id=recording.pk)  # tasks run eagerly: finalize, publish
    recording.refresh_from_db()
    assert recording.state == "available", recording.error  # finalized, verified and published
    assert abs(probe(recording.output_path).duration - recorded) <= 0.5

    def out(t: float) -> float:
        """Where ingest second t lands in the output: minus the pauses before it."""
        return t - FIRST_MEDIA - sum(b - a for a, b in pauses if b <= t)

    kept = [m for m in markers if not any(a <= m < b for a, b in pauses)]
    in_pauses = [m for m in markers if any(a <= m < b for a, b in pauses)]
    assert len(in_pauses) >= 3  # the test would notice paused media leaking into the file
    expected = [out(m) for m in kept]
    flashes, tones = flash_times(recording.output_path), tone_onsets(recording.output_path)
    assert len(flashes) == len(expected), (flashes, expected)
    assert len(tones) == len(expected), (tones, expected)
    for want, flash, tone in zip(expected, flashes, tones, strict=True):
        assert abs(flash - want) <= 0.04, (want, flash)
        assert abs(tone - want) <= 0.04, (want, tone)
        assert abs(tone - flash) <= 0.04, (want, flash, tone)
    # The first marker after each cut in particular (the cut is where drift would show).
    for _a, b in pauses:
        after = next(i for i, m in enumerate(kept) if m > b)
        assert abs(tones[after] - flashes[after]) <= 0.04
