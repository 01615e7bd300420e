"""Audio encoded window by window joins into one seamless AAC stream.

The product encodes each window's audio while the meeting runs (so Stop does
not wait for an encode of the whole meeting). These tests decode the joined
stream and compare it, around every join, with one encode of the whole
timeline: a join done wrong is a click of tens of percent of full scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loadtest.synthetic import make_track
from recordings.media.assemble import AssemblyError, AudioPiece, assemble
from recordings.media.audio import AAC_FRAME, SAMPLE_RATE, encode_audio_window, mix_audio, on_audio_grid
from recordings.media.compositor import compose_window
from recordings.media.timeline import TrackInput

from .conftest import CAM_H, CAM_W, TEST_PRESET, decode_audio, rms

DURATION = 9.0
WINDOWS = [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0)]  # joins fall inside segments and on a segment edge


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> TrackInput:
    """One participant speaking (a 440 Hz tone) over the whole 9 s, in 4.5 s segments."""
    return make_track(
        tmp_path_factory.mktemp("tone"), track_id="tone", segments=2, segment_s=4.5, width=CAM_W, height=CAM_H,
        fps=10, pattern="red", tone_hz=440.0,
    )  # fmt: skip


@pytest.fixture(scope="module")
def video(tone: TrackInput, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("video")
    paths = []
    for k, (start, end) in enumerate(WINDOWS):
        path = str(out / f"v{k}.mp4")
        compose_window([tone], start=start, end=end, out_path=path, preset=TEST_PRESET)
        paths.append(path)
    return paths


def windows_then_join(tone: TrackInput, video: list[str], out: Path, **rolls: int) -> np.ndarray:
    pieces = []
    for k, (start, end) in enumerate(WINDOWS):
        report = encode_audio_window([tone], start=start, end=end, out_path=str(out / f"a{k}.m4a"), **rolls)
        pieces.append(AudioPiece(report.out_path, report.start_sample))
    final = str(out / "joined.mp4")
    assemble(video, pieces, final, expected_duration=DURATION)
    return decode_audio(final)[0]


def worst_join_error(joined: np.ndarray, whole: np.ndarray) -> float:
    """Largest RMS difference over one AAC frame either side of each join."""
    errors = []
    for _, end in WINDOWS[:-1]:
        at = on_audio_grid(end)
        a, b = at - 2 * AAC_FRAME, at + 2 * AAC_FRAME
        errors.append(rms(joined[:, a:b] - whole[:, a:b]))
    return max(errors)


@pytest.fixture(scope="module")
def whole(tone: TrackInput, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    report = mix_audio([tone], duration=DURATION, out_path=str(tmp_path_factory.mktemp("whole") / "a.m4a"))
    return decode_audio(report.out_path)[0]


def test_windows_join_like_one_encode(tone: TrackInput, video: list[str], whole: np.ndarray, tmp_path: Path) -> None:
    joined = windows_then_join(tone, video, tmp_path)
    n = on_audio_grid(DURATION)
    assert joined.shape[1] >= n - AAC_FRAME
    # The tone is there throughout, including across the joins...
    for start, end in WINDOWS:
        assert rms(joined[:, int(start * SAMPLE_RATE) + 2048 : int(end * SAMPLE_RATE) - 2048]) > 0.05
    # ...and around each join the decoded samples differ from a single encode's
    # only by encoder noise (measured -56 dBFS RMS; a bad join clicks at -36
    # dBFS or louder, see the next test).
    assert worst_join_error(joined, whole) < 0.004
    # Away from the joins too: the limiter and encoder state match a single pass (-59 dBFS measured).
    assert rms(joined[:, : n - AAC_FRAME] - whole[:, : n - AAC_FRAME]) < 0.004


def test_without_pre_roll_the_joins_click(
    tone: TrackInput, video: list[str], whole: np.ndarray, tmp_path: Path
) -> None:
    """The comparison above can fail: one frame of pre-roll is not enough for AAC's overlapped frames."""
    joined = windows_then_join(tone, video, tmp_path, preroll_frames=1, postroll_frames=1)
    assert worst_join_error(joined, whole) > 0.01  # measured 0.016 (-36 dBFS); 0.055 with none


def test_a_window_encoded_again_is_identical(tone: TrackInput, tmp_path: Path) -> None:
    """A retried or re-run window task writes the same bytes, so its join still fits."""
    first = encode_audio_window([tone], start=3.0, end=6.0, out_path=str(tmp_path / "a.m4a"))
    second = encode_audio_window([tone], start=3.0, end=6.0, out_path=str(tmp_path / "b.m4a"))
    assert first.start_sample == second.start_sample == on_audio_grid(3.0)
    assert Path(first.out_path).read_bytes() == Path(second.out_path).read_bytes()


def test_assembly_refuses_windows_that_do_not_continue(tone: TrackInput, video: list[str], tmp_path: Path) -> None:
    a = encode_audio_window([tone], start=0.0, end=3.0, out_path=str(tmp_path / "a.m4a"))
    c = encode_audio_window([tone], start=6.0, end=9.0, out_path=str(tmp_path / "c.m4a"))
    with pytest.raises(AssemblyError, match="does not continue"):
        assemble(
            video,
            [AudioPiece(a.out_path, a.start_sample), AudioPiece(c.out_path, c.start_sample)],
            str(tmp_path / "out.mp4"),
        )
    assert not (tmp_path / "out.mp4").exists()
