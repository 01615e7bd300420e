"""The whole media path on a small meeting: windows (video and audio) -> final MP4.

The meeting (see conftest): ``red`` camera with a tone 0-8 s, ``blue`` camera
with a muted mic 0-12 s, a screen share 4.5-8 s. Composed as three 4 s
windows, each with its own audio encode as the product does, assembled, then
checked by decoding the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from recordings.media.assemble import AudioPiece, MediaInfo, assemble, probe, top_level_atoms
from recordings.media.audio import AudioReport, encode_audio_window, on_audio_grid
from recordings.media.compositor import WindowReport, compose_window
from recordings.media.layout import Cell, Rect, fit
from recordings.media.timeline import TrackInput

from .conftest import CAM_H, CAM_W, TEST_PRESET, colour_close, decode_audio, decode_video, rms

FPS = 30
WINDOWS = [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)]


@dataclass
class Assembled:
    fragments: list[str]
    reports: list[WindowReport]
    audio: list[AudioReport]
    info: MediaInfo
    path: str


@pytest.fixture(scope="module")
def assembled(meeting: dict[str, TrackInput], tmp_path_factory: pytest.TempPathFactory) -> Assembled:
    out = tmp_path_factory.mktemp("assembled")
    tracks = [meeting["red"], meeting["blue"], meeting["screen"]]
    fragments, reports, audio = [], [], []
    for k, (start, end) in enumerate(WINDOWS):
        path = str(out / f"w{k}.mp4")
        reports.append(compose_window(tracks, start=start, end=end, out_path=path, preset=TEST_PRESET))
        fragments.append(path)
        audio.append(encode_audio_window(tracks, start=start, end=end, out_path=str(out / f"w{k}.m4a")))
    final = str(out / "final.mp4")
    pieces = [AudioPiece(a.out_path, a.start_sample) for a in audio]
    info = assemble(fragments, pieces, final, expected_duration=12.0)
    return Assembled(fragments, reports, audio, info, final)


def layout_at(reports: list[WindowReport], t: float) -> tuple[Cell, ...]:
    """The layout in force at timeline second ``t``, from the window reports."""
    current: tuple[Cell, ...] = ()
    for report in reports:
        for change in report.layout_changes:
            if change.time <= t + 1e-9:
                current = change.cells
    return current


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.w // 2, rect.y + rect.h // 2


def test_output_is_1080p30_h264_aac_faststart(assembled: Assembled) -> None:
    info = probe(assembled.path)
    assert (info.width, info.height) == (1920, 1080)
    assert info.fps == pytest.approx(30.0)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert abs(info.duration - 12.0) <= 0.5
    assert info.video_frames == 360
    assert info.moov_first
    atoms = top_level_atoms(assembled.path)
    assert atoms.index("moov") < atoms.index("mdat")
    assert info == assembled.info


def test_each_fragment_is_exact_and_starts_with_a_keyframe(assembled: Assembled) -> None:
    for path, report in zip(assembled.fragments, assembled.reports):
        assert report.frames == 120 and not report.problems
        with av.open(path) as container:
            stream = container.streams.video[0]
            assert stream.frames == 120
            assert stream.codec_context.pix_fmt == "yuv420p"
            first = next(p for p in container.demux(stream) if p.size)
            assert first.is_keyframe and first.pts == 0


def test_tiles_show_their_participant_where_the_layout_puts_them(assembled: Assembled) -> None:
    video = decode_video(assembled.path, keep=[60, 180, 300])
    # 2 s: two cameras side by side.
    cells = {c.track_id: c for c in layout_at(assembled.reports, 2.0)}
    assert set(cells) == {"red", "blue"} and all(c.role == "grid" for c in cells.values())
    assert cells["blue"].rect.x < cells["red"].rect.x  # same join time: ordered by track id
    for name in ("red", "blue"):
        x, y = centre(fit(CAM_W, CAM_H, cells[name].rect))
        assert colour_close(video.yuv_at(60, x, y), name), (name, video.yuv_at(60, x, y))
    # Letterbox bars above the 16:9 pictures in the 960x1080 cells are black.
    assert video.yuv_at(60, 480, 100)[0] < 24

    # 6 s: the share on the stage, the cameras in the right-hand column.
    cells = {c.track_id: c for c in layout_at(assembled.reports, 6.0)}
    assert cells["screen"].role == "stage" and cells["red"].role == cells["blue"].role == "strip"
    stage = fit(640, 360, cells["screen"].rect)
    assert video.yuv_at(180, stage.x + stage.w * 9 // 10, stage.y + stage.h * 85 // 100)[0] > 200  # white slide
    for name in ("red", "blue"):
        rect = cells[name].rect
        assert rect.x >= 1440
        x, y = centre(fit(CAM_W, CAM_H, rect))
        assert colour_close(video.yuv_at(180, x, y), name)

    # 10 s: only blue is left, and a single camera fills the frame.
    cells = {c.track_id: c for c in layout_at(assembled.reports, 10.0)}
    assert list(cells) == ["blue"] and cells["blue"].rect == Rect(0, 0, 1920, 1080)
    assert colour_close(video.yuv_at(300, 960, 540), "blue")
    assert colour_close(video.yuv_at(300, 200, 540), "blue")


def test_screen_share_switches_the_layout_when_it_starts(assembled: Assembled) -> None:
    changes = [c for r in assembled.reports for c in r.layout_changes]
    share_starts = [c.time for c in changes if any(cell.role == "stage" for cell in c.cells)]
    assert share_starts and abs(share_starts[0] - 4.5) <= 1 / FPS + 1e-6
    share_ends = [c.time for c in changes if c.time > 4.5 and not any(cell.role == "stage" for cell in c.cells)]
    # Its last frame (7.75 s at 4 fps) lasts one frame interval.
    assert share_ends and abs(share_ends[0] - 8.0) <= 1 / FPS + 1e-6

    # And the pixels agree: the first frame with a white stage is at ~4.5 s.
    video = decode_video(assembled.path, keep=range(120, 200))
    stage = fit(640, 360, Rect(0, 0, 1440, 1080))
    point = (stage.x + stage.w * 9 // 10, stage.y + stage.h * 85 // 100)
    first_white = next(i for i in range(120, 200) if video.yuv_at(i, *point)[0] > 200)
    assert abs(first_white / FPS - 4.5) <= 1.0
    # Before the share the same spot is the left camera's picture, not white.
    assert video.yuv_at(125, *point)[0] < 200


def test_audio_is_present_where_someone_speaks_and_silent_elsewhere(assembled: Assembled) -> None:
    samples, rate = decode_audio(assembled.path)
    assert rate == 48_000 and samples.shape[0] == 2
    # The windows tile the timeline on the AAC frame grid, to within one frame of 12 s.
    assert sum(a.samples for a in assembled.audio) == on_audio_grid(12.0)
    assert abs(on_audio_grid(12.0) - 12 * 48_000) <= 512
    assert not any(a.problems for a in assembled.audio)
    assert samples.shape[1] >= on_audio_grid(12.0)
    speaking = samples[:, int(0.5 * rate) : int(7.5 * rate)]
    quiet = samples[:, int(8.3 * rate) : int(11.7 * rate)]
    assert rms(speaking) > 0.05
    assert rms(quiet) < 0.001
    assert np.abs(samples).max() <= 1.0
    # The tone is the red participant's 440 Hz.
    spectrum = np.abs(np.fft.rfft(speaking[0, : rate * 2]))
    assert abs(np.argmax(spectrum) * rate / (rate * 2) - 440) < 2


def test_fragment_joins_keep_timestamps_monotonic(assembled: Assembled) -> None:
    with av.open(assembled.path) as container:
        v = container.streams.video[0]
        last_dts = None
        keyframes = []
        count = 0
        for packet in container.demux(v):
            if not packet.size:
                continue
            assert packet.pts is not None and packet.dts is not None and packet.pts >= packet.dts
            if last_dts is not None:
                assert packet.dts > last_dts
            last_dts = packet.dts
            if packet.is_keyframe:
                keyframes.append(round(float(packet.pts * v.time_base), 3))
            count += 1
        assert count == 360
        # Every fragment starts on a keyframe, at its place on the timeline.
        assert {0.0, 4.0, 8.0} <= set(keyframes)
    # Decoding the whole file raises nothing and yields every frame.
    assert decode_video(assembled.path, keep=[]).count == 360


def test_composing_a_window_again_gives_identical_frames(
    assembled: Assembled, meeting: dict[str, TrackInput], tmp_path: Path
) -> None:
    """The basis of crash safety: a killed task rerun writes the same fragment."""
    tracks = [meeting["red"], meeting["blue"], meeting["screen"]]
    again = str(tmp_path / "again.mp4")
    report = compose_window(tracks, start=4.0, end=8.0, out_path=again, preset=TEST_PRESET)
    assert report.frames == 120
    first = decode_video(assembled.fragments[1])
    second = decode_video(again)
    assert first.count == second.count == 120
    for i in range(120):
        for a, b in zip(first.frames[i], second.frames[i]):
            assert np.array_equal(a, b), f"frame {i} differs"
    assert Path(again).read_bytes() == Path(assembled.fragments[1]).read_bytes()


def test_window_boundaries_do_not_shift_pictures(
    assembled: Assembled, meeting: dict[str, TrackInput], tmp_path: Path
) -> None:
    """Composing 4-8 s as two halves shows the same pictures at the same times."""
    tracks = [meeting["red"], meeting["blue"], meeting["screen"]]
    halves = []
    for k, (start, end) in enumerate([(4.0, 6.0), (6.0, 8.0)]):
        path = str(tmp_path / f"half{k}.mp4")
        compose_window(tracks, start=start, end=end, out_path=path, preset=TEST_PRESET)
        halves.append(decode_video(path))
    whole = decode_video(assembled.fragments[1])
    red = fit(CAM_W, CAM_H, layout_at(assembled.reports, 6.5)[1].rect)
    for i in range(120):
        half = halves[i // 60]
        diff = np.abs(whole.region(i, red) - half.region(i % 60, red)).mean()
        assert diff < 3, (i, diff)
