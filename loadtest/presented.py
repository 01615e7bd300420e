"""Synthetic items to present (slides and library videos) for the stage tests and benchmarks.

* ``slide``: an RGB picture of one colour with a fine pattern (1-pixel stripes, which survive only
  if the item is drawn at full resolution) and a page number in big digits;
* ``write_png``: an RGB array as a PNG file (what a PDF page renders to);
* ``make_position_video``: an H.264 + AAC MP4 whose every frame tells its own position: the left
  half's grey level is the whole second, the right half's the frame within it (``read_position``
  reads it back from a decoded picture), with a tone only over the given seconds of position.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np

from .synthetic import NAMED_COLOURS, text_mask

SAMPLE_RATE = 48_000
VIDEO_FPS = 30
# Grey levels (luma) of the position code: far apart enough to survive scaling and compression.
SECOND_STEP = 20
FRAME_STEP = 6
LEVEL_BASE = 24


def slide(width: int, height: int, colour: str, number: int) -> np.ndarray:
    """A page: solid colour, 1-pixel black/white stripes in a band, its number in big black digits."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = NAMED_COLOURS[colour]
    band = img[height // 10 : height // 10 + height // 8, width // 10 : width * 9 // 10]
    band[:, 0::2] = 255
    band[:, 1::2] = 0
    mask = text_mask(str(number), max(4, height // 40))
    y, x = height // 2, width // 2 - mask.shape[1] // 2
    h, w = min(mask.shape[0], height - y), min(mask.shape[1], width - x)
    img[y : y + h, x : x + w][mask[:h, :w]] = 0
    return img


def write_png(path: str | os.PathLike[str], rgb: np.ndarray) -> None:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    with av.open(os.fspath(path), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height = frame.width, frame.height
        stream.pix_fmt = "rgb24"
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def position_levels(index: int) -> tuple[int, int]:
    """(left, right) luma of video frame ``index``: whole second, frame within it."""
    second, frame = divmod(index, VIDEO_FPS)
    return LEVEL_BASE + SECOND_STEP * second, LEVEL_BASE + FRAME_STEP * frame


def read_position(left_luma: float, right_luma: float) -> float:
    """Position (seconds) of a video frame from the mean luma of its two halves."""
    second = round((left_luma - LEVEL_BASE) / SECOND_STEP)
    frame = round((right_luma - LEVEL_BASE) / FRAME_STEP)
    return second + frame / VIDEO_FPS


def make_position_video(
    path: str | os.PathLike[str],
    *,
    duration_s: float,
    width: int = 640,
    height: int = 360,
    tone_hz: float = 880.0,
    tone_spans: Sequence[tuple[float, float]] = (),
    keyint: int = 60,
    texture: int = 0,
    crf: int = 18,
) -> None:
    """An MP4 (H.264 yuv420p 30 fps, AAC stereo 48 kHz) whose pictures encode their position.

    At most 10.5 s (the second's grey level must stay in range). A tone plays over ``tone_spans``
    (seconds of position); elsewhere the sound is digital silence. ``texture`` (0-255) fills the
    bottom third with noise that changes every frame, so decoding costs what a real video costs.
    """
    if duration_s > 10.5:
        raise ValueError("position code covers 10.5 s")
    rng = np.random.default_rng(7)
    with av.open(os.fspath(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=VIDEO_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": str(crf), "x264-params": f"keyint={keyint}:min-keyint={keyint}"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE)
        audio.layout = "stereo"
        frames = round(duration_s * VIDEO_FPS)
        for i in range(frames):
            left, right = position_levels(i)
            yuv = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
            yuv[:height, : width // 2] = left
            yuv[:height, width // 2 :] = right
            if texture:
                band = yuv[height * 2 // 3 : height]
                band[:] = rng.integers(128 - texture // 2, 128 + texture // 2 + 1, band.shape, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, VIDEO_FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        total = round(duration_s * SAMPLE_RATE)
        t = np.arange(total) / SAMPLE_RATE
        wave = np.zeros(total, dtype=np.float32)
        for a, b in tone_spans:
            on = (t >= a) & (t < b)
            wave[on] = 0.5 * np.sin(2 * np.pi * tone_hz * t[on])
        for off in range(0, total, 1024):
            chunk = wave[off : off + 1024]
            if chunk.size < 1024:
                chunk = np.pad(chunk, (0, 1024 - chunk.size))
            sound = av.AudioFrame.from_ndarray(np.vstack([chunk, chunk]), format="fltp", layout="stereo")
            sound.sample_rate = SAMPLE_RATE
            sound.pts = off
            sound.time_base = Fraction(1, SAMPLE_RATE)
            container.mux(audio.encode(sound))
        container.mux(audio.encode(None))
