"""Fixtures and helpers for the media core tests (plain pytest, no Django).

Inputs are small (320x180 cameras, short segments) and x264 runs at
ultrafast: the checks are about placement, timing and robustness, and the
output is still the real 1920x1080 30 fps H.264/AAC product format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from loadtest.synthetic import NAMED_COLOURS, make_track, rgb_to_yuv
from recordings.media.layout import Rect
from recordings.media.timeline import TrackInput

TEST_PRESET = "ultrafast"
CAM_W, CAM_H = 320, 180


@dataclass
class DecodedVideo:
    """Y/U/V planes of the kept frames (all, or the indices asked for)."""

    frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    count: int  # frames decoded in total
    width: int
    height: int

    def yuv_at(self, index: int, x: int, y: int, radius: int = 6) -> tuple[float, float, float]:
        """Mean colour of a small square around (x, y) in frame ``index``."""
        py, pu, pv = self.frames[index]
        ys = py[y - radius : y + radius, x - radius : x + radius]
        cx, cy, cr = x // 2, y // 2, max(1, radius // 2)
        us = pu[cy - cr : cy + cr, cx - cr : cx + cr]
        vs = pv[cy - cr : cy + cr, cx - cr : cx + cr]
        return float(ys.mean()), float(us.mean()), float(vs.mean())

    def region(self, index: int, rect: Rect) -> np.ndarray:
        """Luma of a rectangle, as int16 for differencing."""
        return self.frames[index][0][rect.y : rect.y + rect.h, rect.x : rect.x + rect.w].astype(np.int16)


def decode_video(path: str | Path, keep: Iterable[int] | None = None) -> DecodedVideo:
    """Decode every frame (so decoding errors surface); keep the planes asked for."""
    wanted = None if keep is None else set(keep)
    frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    count = width = height = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            count += 1
            width, height = frame.width, frame.height
            if wanted is not None and index not in wanted:
                continue
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            arr = frame.to_ndarray()
            h, w = frame.height, frame.width
            chroma = arr[h:].reshape(2, h // 2, w // 2)
            frames[index] = (arr[:h].copy(), chroma[0].copy(), chroma[1].copy())
    return DecodedVideo(frames, count, width, height)


def decode_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """All samples as float32 [channels, n] and the sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        rate = stream.rate
    return np.concatenate(chunks, axis=1), rate


def colour_close(actual: tuple[float, float, float], name: str, tol: float = 14) -> bool:
    expected = rgb_to_yuv(NAMED_COLOURS[name])
    return all(abs(a - e) <= tol for a, e in zip(actual, expected))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media-inputs")


@pytest.fixture(scope="session")
def meeting(media_dir: Path) -> dict[str, TrackInput]:
    """A small meeting used by several tests.

    * ``red``: camera with a 440 Hz tone, present 0-8 s (two 4 s segments);
    * ``blue``: camera with a muted mic (digital silence), present 0-12 s;
    * ``screen``: a share without sound, 4.5-8 s (starts mid-window).

    So 0-8 s has the tone and 8-12 s must be silent.
    """
    red = make_track(
        media_dir / "red", track_id="red", segments=2, segment_s=4, width=CAM_W, height=CAM_H,
        fps=15, pattern="red", tone_hz=440.0,
    )  # fmt: skip
    blue = make_track(
        media_dir / "blue", track_id="blue", segments=3, segment_s=4, width=CAM_W, height=CAM_H,
        fps=15, pattern="blue", tone_hz=None,
    )  # fmt: skip
    screen = make_track(
        media_dir / "screen", track_id="screen", kind="screen", segments=1, segment_s=3.5, start=4.5,
        width=640, height=360, fps=4, pattern="screen", tone_hz=None, audio=False,
    )  # fmt: skip
    return {"red": red, "blue": blue, "screen": screen}


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
