"""Bad input costs only its own seconds; browser timing quirks are honoured.

These compose at 640x360 (the size is a parameter) to stay quick: what is
checked is which picture is shown when, not the product geometry.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from loadtest.synthetic import make_track, make_webm_segment
from recordings.media.assemble import AssemblyError, assemble
from recordings.media.audio import CEILING, _Limiter, mix_audio
from recordings.media.compositor import compose_window
from recordings.media.layout import Rect
from recordings.media.timeline import SegmentRef, TrackInput, probe_segment

from .conftest import CAM_H, CAM_W, TEST_PRESET, colour_close, decode_audio, decode_video, rms

W, H = 640, 360
BAND = Rect(0, int(H * 0.80), W, int(H * 0.14))  # where the synthetic block moves


def motion(video, i: int, step: int = 4) -> float:
    """How much the moving block moved between frames i and i + step."""
    return float(np.abs(video.region(i + step, BAND) - video.region(i, BAND)).mean())


@pytest.fixture(scope="module")
def green(tmp_path_factory: pytest.TempPathFactory) -> TrackInput:
    """A camera with a tone: three 2 s segments covering 0-6 s."""
    return make_track(
        tmp_path_factory.mktemp("green"), track_id="green", segments=3, segment_s=2.0,
        width=CAM_W, height=CAM_H, fps=15, pattern="green", tone_hz=440.0,
    )  # fmt: skip


def damaged(track: TrackInput, how: str, directory: Path) -> TrackInput:
    """The same track with its middle segment (2-4 s) spoiled ``how``."""
    bad = directory / f"bad-{how}.webm"
    original = Path(track.segments[1].path)
    if how == "garbage":
        bad.write_bytes(np.random.default_rng(1).integers(0, 256, original.stat().st_size, dtype=np.uint8).tobytes())
    elif how == "truncated":
        data = original.read_bytes()
        bad.write_bytes(data[: int(len(data) * 0.3)])
    elif how == "missing":
        bad = directory / "does-not-exist.webm"
    segments = (track.segments[0], SegmentRef(path=str(bad), start=2.0), track.segments[2])
    return TrackInput(track.track_id, track.kind, segments)


@pytest.mark.parametrize("how", ["garbage", "truncated", "missing"])
def test_a_corrupt_segment_costs_only_its_own_seconds(green: TrackInput, how: str, tmp_path: Path) -> None:
    track = damaged(green, how, tmp_path)
    out = str(tmp_path / "w.mp4")
    report = compose_window([track], start=0.0, end=6.0, out_path=out, width=W, height=H, preset=TEST_PRESET)

    assert report.frames == 180
    assert [p.path for p in report.problems] == [track.segments[1].path]
    assert report.problems[0].reason  # says why
    video = decode_video(out)  # playable: every frame decodes
    assert video.count == 180
    # The participant keeps their place (held picture), the colour stays...
    for i in (30, 90, 110, 150):
        assert colour_close(video.yuv_at(i, W // 2, H // 2), "green"), (i, video.yuv_at(i, W // 2, H // 2))
    # ...the picture is frozen only inside the bad segment's span (for a
    # truncated file: after its readable part), and moves again after it.
    assert motion(video, 10) > 2 and motion(video, 40) > 2
    assert motion(video, 96) < 0.5 and motion(video, 110) < 0.5
    assert motion(video, 130) > 2 and motion(video, 160) > 2

    audio = mix_audio([track], duration=6.0, out_path=str(tmp_path / "a.m4a"))
    assert [p.path for p in audio.problems] == ([] if how == "truncated" else [track.segments[1].path])
    samples, rate = decode_audio(audio.out_path)
    assert rms(samples[:, int(0.2 * rate) : int(1.8 * rate)]) > 0.05
    assert rms(samples[:, int(3.2 * rate) : int(3.8 * rate)]) < 0.001  # silence in the lost seconds
    assert rms(samples[:, int(4.2 * rate) : int(5.8 * rate)]) > 0.05


def test_variable_frame_timing_and_gaps_are_placed_by_timestamp(tmp_path: Path) -> None:
    """Frames are timed by pts, not by index: a hole in the frames holds the picture."""
    path = str(tmp_path / "vfr.webm")
    make_webm_segment(
        path, width=CAM_W, height=CAM_H, duration_s=4.0, fps=15, pattern="magenta", tone_hz=None,
        gaps=[(1.0, 2.5)], jitter_s=0.02,
    )  # fmt: skip
    with av.open(path) as container:
        times = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    assert not any(1.0 <= t < 2.5 for t in times) and max(times) > 3.5

    track = TrackInput("m", "camera", (SegmentRef(path=path, start=0.0),))
    out = str(tmp_path / "w.mp4")
    report = compose_window([track], start=0.0, end=4.0, out_path=out, width=W, height=H, preset=TEST_PRESET)
    assert report.frames == 120 and not report.problems
    video = decode_video(out)
    assert motion(video, 10) > 2  # moving before the hole
    assert motion(video, 40) < 0.5 and motion(video, 65) < 0.5  # held through 1.0-2.5 s
    assert motion(video, 80) > 2  # moving again after it
    assert colour_close(video.yuv_at(50, W // 2, H // 2), "magenta")


def test_segment_with_a_later_start_and_no_frame_yet_shows_black(tmp_path: Path) -> None:
    """Present (its span started) but its first frame comes later: a black cell."""
    path = str(tmp_path / "late.webm")
    make_webm_segment(
        path, width=CAM_W, height=CAM_H, duration_s=2.0, fps=15, pattern="yellow", tone_hz=None,
        frame_times=[0.0] + [1.0 + i / 15 for i in range(15)],
    )  # fmt: skip
    late = TrackInput("y", "camera", (SegmentRef(path=path, start=0.0),))
    out = str(tmp_path / "w.mp4")
    # The window starts at 0.5 s: the frame at 0.0 s is held from before it.
    compose_window([late], start=0.5, end=2.0, out_path=out, width=W, height=H, preset=TEST_PRESET)
    video = decode_video(out, keep=[0, 10, 40])
    assert colour_close(video.yuv_at(0, W // 2, H // 2), "yellow")
    assert colour_close(video.yuv_at(40, W // 2, H // 2), "yellow")


def test_a_window_with_nobody_is_black_and_exact(tmp_path: Path) -> None:
    track = TrackInput("gone", "camera", (SegmentRef(path=str(tmp_path / "nope.webm"), start=100.0),))
    out = str(tmp_path / "w.mp4")
    report = compose_window([track], start=0.0, end=1.0, out_path=out, width=W, height=H, preset=TEST_PRESET)
    assert report.frames == 30 and report.problems == []
    video = decode_video(out, keep=[15])
    assert video.count == 30 and video.yuv_at(15, W // 2, H // 2)[0] < 24


def test_output_appears_only_when_complete(green: TrackInput, tmp_path: Path) -> None:
    out = tmp_path / "w.mp4"
    compose_window([green], start=0.0, end=1.0, out_path=str(out), width=W, height=H, preset=TEST_PRESET)
    assert out.exists() and [p.name for p in tmp_path.iterdir()] == ["w.mp4"]  # no temp files left


def test_probe_measures_browser_segments_without_duration(green: TrackInput) -> None:
    probe = probe_segment(green.segments[0].path)
    assert probe.error is None and probe.has_video and probe.has_audio
    assert probe.first_ts == 0.0
    assert probe.duration == pytest.approx(2.0, abs=0.05)
    assert probe_segment("/nonexistent/file.webm").duration is None


def test_limiter_keeps_a_loud_sum_below_full_scale() -> None:
    rate = 48_000
    t = np.arange(rate * 2) / rate
    loud = np.vstack([np.sin(2 * np.pi * 200 * t)] * 2).astype(np.float32) * 2.5  # 5 people shouting
    limiter = _Limiter()
    out = loud[:, :rate].copy()
    limiter.process(out)
    rest = loud[:, rate:].copy()
    limiter.process(rest)
    assert np.abs(out).max() <= CEILING + 1e-3 and np.abs(rest).max() <= CEILING + 1e-3
    assert limiter.limited_blocks > 0
    quiet = (loud[:, :rate] / 10).copy()
    fresh = _Limiter()
    fresh.process(quiet)
    assert np.array_equal(quiet, loud[:, :rate] / 10)  # nothing to do: untouched


def test_mixing_sums_participants_without_clipping(tmp_path: Path) -> None:
    tracks = []
    for k in range(5):  # five in-phase tones: the raw sum would clip
        path = str(tmp_path / f"t{k}.webm")
        make_webm_segment(path, width=64, height=36, duration_s=1.0, fps=5, pattern="grey", tone_hz=300.0)
        tracks.append(TrackInput(f"t{k}", "camera", (SegmentRef(path=path, start=0.0),)))
    report = mix_audio(tracks, duration=1.0, out_path=str(tmp_path / "a.m4a"))
    samples, _ = decode_audio(report.out_path)
    assert report.limited_blocks > 0
    assert np.abs(samples).max() <= 1.0
    assert rms(samples[:, 4800:43200]) > 0.3  # loud, but limited rather than normalised away


def test_assembly_refuses_fragments_encoded_differently(green: TrackInput, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")
    compose_window([green], start=0.0, end=1.0, out_path=a, width=W, height=H, preset=TEST_PRESET)
    compose_window([green], start=1.0, end=2.0, out_path=b, width=W + 64, height=H, preset=TEST_PRESET)
    with pytest.raises(AssemblyError):
        assemble([a, b], None, str(tmp_path / "out.mp4"))
    assert not (tmp_path / "out.mp4").exists()


def test_video_only_assembly_and_temp_cleanup(green: TrackInput, tmp_path: Path) -> None:
    frags = []
    for k in range(2):
        path = str(tmp_path / f"f{k}.mp4")
        compose_window([green], start=k * 1.0, end=k + 1.0, out_path=path, width=W, height=H, preset=TEST_PRESET)
        frags.append(path)
    info = assemble(frags, None, str(tmp_path / "out.mp4"))
    assert info.audio_codec is None and info.video_frames == 60 and info.moov_first
    assert abs(info.duration - 2.0) < 0.05
    leftovers = [p for p in os.listdir(tmp_path) if ".tmp" in p]
    assert leftovers == []
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)
