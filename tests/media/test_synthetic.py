"""The synthetic inputs look like Chromium's MediaRecorder output."""

from __future__ import annotations

from pathlib import Path

import av

from loadtest.synthetic import make_track, make_webm_segment


def test_segment_is_vp8_opus_webm_with_ms_timestamps(tmp_path: Path) -> None:
    path = make_webm_segment(
        tmp_path / "s.webm", width=320, height=180, duration_s=1.0, fps=20, pattern="red", tone_hz=440.0
    )
    with av.open(path) as container:
        assert "webm" in container.format.name or "matroska" in container.format.name
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "vp8" and (video.width, video.height) == (320, 180)
        assert audio.codec_context.name == "opus" and audio.rate == 48_000
        times = [float(f.pts * f.time_base) for f in container.decode(video)]
    assert times[0] == 0.0 and len(times) == 20 and abs(times[-1] - 0.95) < 1e-3


def test_track_is_consecutive_segments_with_continuing_timeline(tmp_path: Path) -> None:
    track = make_track(
        tmp_path, track_id="t", kind="screen", segments=3, segment_s=1.0, start=5.0, gap_s=0.05,
        width=192, height=108, fps=5, pattern="screen", tone_hz=None, audio=False,
    )  # fmt: skip
    assert track.kind == "screen" and [s.start for s in track.segments] == [5.0, 6.05, 7.1]
    for ref in track.segments:
        with av.open(ref.path) as container:
            assert not container.streams.audio and container.streams.video[0].codec_context.name == "vp8"
