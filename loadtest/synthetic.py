"""Synthetic browser-like media for tests and benchmarks.

Writes self-contained WebM files shaped like the ones Chromium's MediaRecorder
produces with ``video/webm;codecs=vp8,opus``: VP8 video with millisecond
timestamps (variable frame rate allowed), Opus audio at 48 kHz, no duration or
cues in the header beyond what the muxer writes, timestamps starting at 0.

The pictures are built directly as YUV 4:2:0 planes (no RGB round trip) so
generating twenty minutes of four tracks stays cheap, and they are easy to
recognise by sampling pixels: a camera is a solid colour with a moving block in
a band at the bottom and a frame counter in the top-left corner, so the centre
of its tile is its colour; a screen share is a white slide with big black text.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from core import files
from recordings.media.timeline import SegmentRef, TrackInput, TrackKind

SAMPLE_RATE = 48_000
OPUS_FRAME = 960  # 20 ms, what Chromium's Opus encoder uses

Colour = tuple[int, int, int]

NAMED_COLOURS: dict[str, Colour] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (40, 70, 220),
    "yellow": (230, 210, 40),
    "magenta": (200, 50, 200),
    "cyan": (40, 200, 210),
    "orange": (240, 130, 30),
    "grey": (128, 128, 128),
}


def rgb_to_yuv(rgb: Colour) -> tuple[int, int, int]:
    """BT.601 limited range, the matrix decoders assume for untagged VP8."""
    r, g, b = (c / 255.0 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return (round(y), round(u), round(v))


# --- a tiny 5x7 bitmap font: legible big text without a font library --------

_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": ("01110", "10001", "10001", "11111", "10001", "10001", "10001"),
    "B": ("11110", "10001", "10001", "11110", "10001", "10001", "11110"),
    "C": ("01110", "10001", "10000", "10000", "10000", "10001", "01110"),
    "D": ("11100", "10010", "10001", "10001", "10001", "10010", "11100"),
    "E": ("11111", "10000", "10000", "11110", "10000", "10000", "11111"),
    "F": ("11111", "10000", "10000", "11110", "10000", "10000", "10000"),
    "G": ("01110", "10001", "10000", "10111", "10001", "10001", "01111"),
    "H": ("10001", "10001", "10001", "11111", "10001", "10001", "10001"),
    "I": ("01110", "00100", "00100", "00100", "00100", "00100", "01110"),
    "J": ("00111", "00010", "00010", "00010", "00010", "10010", "01100"),
    "K": ("10001", "10010", "10100", "11000", "10100", "10010", "10001"),
    "L": ("10000", "10000", "10000", "10000", "10000", "10000", "11111"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
    "N": ("10001", "10001", "11001", "10101", "10011", "10001", "10001"),
    "O": ("01110", "10001", "10001", "10001", "10001", "10001", "01110"),
    "P": ("11110", "10001", "10001", "11110", "10000", "10000", "10000"),
    "Q": ("01110", "10001", "10001", "10001", "10101", "10010", "01101"),
    "R": ("11110", "10001", "10001", "11110", "10100", "10010", "10001"),
    "S": ("01111", "10000", "10000", "01110", "00001", "00001", "11110"),
    "T": ("11111", "00100", "00100", "00100", "00100", "00100", "00100"),
    "U": ("10001", "10001", "10001", "10001", "10001", "10001", "01110"),
    "V": ("10001", "10001", "10001", "10001", "10001", "01010", "00100"),
    "W": ("10001", "10001", "10001", "10101", "10101", "10101", "01010"),
    "X": ("10001", "10001", "01010", "00100", "01010", "10001", "10001"),
    "Y": ("10001", "10001", "10001", "01010", "00100", "00100", "00100"),
    "Z": ("11111", "00001", "00010", "00100", "01000", "10000", "11111"),
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    " ": ("00000",) * 7,
    ":": ("00000", "01100", "01100", "00000", "01100", "01100", "00000"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    ",": ("00000", "00000", "00000", "00000", "01100", "00100", "01000"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    "/": ("00000", "00001", "00010", "00100", "01000", "10000", "00000"),
    "%": ("11000", "11001", "00010", "00100", "01000", "10011", "00011"),
}
_GLYPH_MASKS: dict[str, np.ndarray] = {
    ch: np.array([[c == "1" for c in row] for row in rows], dtype=bool) for ch, rows in _GLYPHS.items()
}


def text_mask(text: str, scale: int) -> np.ndarray:
    """Boolean mask of ``text`` in the 5x7 font, each dot ``scale`` px square."""
    cells = []
    gap = np.zeros((7, 1), dtype=bool)
    for ch in text.upper():
        cells.append(_GLYPH_MASKS.get(ch, _GLYPH_MASKS[" "]))
        cells.append(gap)
    mask = np.concatenate(cells[:-1] or [gap], axis=1)
    return np.kron(mask, np.ones((scale, scale), dtype=bool))


def _draw_text(plane: np.ndarray, text: str, x: int, y: int, scale: int, value: int) -> None:
    mask = text_mask(text, scale)
    h = min(mask.shape[0], plane.shape[0] - y)
    w = min(mask.shape[1], plane.shape[1] - x)
    if h > 0 and w > 0:
        plane[y : y + h, x : x + w][mask[:h, :w]] = value


# --- pictures ----------------------------------------------------------------


@dataclass
class _Painter:
    """Draws frame ``n`` of a pattern into reusable Y/U/V planes."""

    width: int
    height: int
    pattern: str | Colour
    noise: int = 0

    def __post_init__(self) -> None:
        self.is_screen = self.pattern == "screen"
        if self.is_screen:
            self.yuv = (235, 128, 128)
        else:
            rgb = NAMED_COLOURS[self.pattern] if isinstance(self.pattern, str) else self.pattern
            self.yuv = rgb_to_yuv(rgb)
        # A small bank of precomputed noise fields, cycled, keeps per-frame cost
        # flat while still giving the encoders sensor-like texture to chew on.
        self._noise_bank: list[np.ndarray] = []
        if self.noise:
            rng = np.random.default_rng(12345)
            for _ in range(8):
                self._noise_bank.append(
                    rng.integers(-self.noise, self.noise + 1, (self.height, self.width), dtype=np.int16)
                )
        self._slide_cache: dict[int, np.ndarray] = {}

    def _slide(self, number: int) -> np.ndarray:
        """Luma of one slide; cached because slides change rarely."""
        if number not in self._slide_cache:
            y = np.full((self.height, self.width), 235, dtype=np.uint8)
            s = max(1, self.width // 1920)
            _draw_text(y, f"SLIDE {number}", 80 * s, 60 * s, 16 * s, 16)
            _draw_text(y, "QUARTERLY REVIEW: METRICS", 80 * s, 240 * s, 8 * s, 16)
            lines = [
                f"- REVENUE UP {10 + number}% ON LAST YEAR",
                "- CHURN DOWN TO 2.4%, TARGET 2.0%",
                "- NEW REGIONS: NORTH, EAST, SOUTH-WEST",
                "- HIRING: 12 ENGINEERS, 3 DESIGNERS",
                "- SMALL PRINT 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ]
            for i, line in enumerate(lines):
                scale = 5 if i < 4 else 3
                _draw_text(y, line, 100 * s, (380 + i * 90) * s, scale * s, 16)
            self._slide_cache = {number: y}  # keep only the current slide
        return self._slide_cache[number]

    def paint(self, n: int, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, h = self.width, self.height
        cw, ch = w // 2, h // 2
        if self.is_screen:
            # A new slide every 20 s and a moving "cursor", like a real share.
            y = self._slide(1 + int(t // 20)).copy()
            cx = int((t * 200) % max(1, w - 40))
            y[h - 120 : h - 80, cx : cx + 24] = 16
            u = np.full((ch, cw), 128, dtype=np.uint8)
            v = np.full((ch, cw), 128, dtype=np.uint8)
            return y, u, v
        y = np.full((h, w), self.yuv[0], dtype=np.uint8)
        if self._noise_bank:
            noisy = y.astype(np.int16) + self._noise_bank[n % len(self._noise_bank)]
            y = np.clip(noisy, 0, 255).astype(np.uint8)
        u = np.full((ch, cw), self.yuv[1], dtype=np.uint8)
        v = np.full((ch, cw), self.yuv[2], dtype=np.uint8)
        # Moving white block in a band at the bottom: motion that never
        # touches the centre, so the centre stays a clean sample of the colour.
        band_top = int(h * 0.82) & ~1
        band_h = max(2, int(h * 0.1)) & ~1
        bw = max(2, w // 10) & ~1
        bx = int((n * 8) % max(2, w - bw)) & ~1
        y[band_top : band_top + band_h, bx : bx + bw] = 235
        u[band_top // 2 : (band_top + band_h) // 2, bx // 2 : (bx + bw) // 2] = 128
        v[band_top // 2 : (band_top + band_h) // 2, bx // 2 : (bx + bw) // 2] = 128
        scale = max(2, h // 90)
        _draw_text(y, f"{n:05d}", scale * 2, scale * 2, scale, 235)
        return y, u, v


def _frame_times(
    duration_s: float,
    fps: float,
    frame_times: Sequence[float] | None,
    gaps: Sequence[tuple[float, float]],
    jitter_s: float,
    seed: int,
) -> list[float]:
    """Timestamps (seconds from segment start) of the frames to write.

    Browsers deliver variable frame timing and drop frames under load; gaps
    (no frames at all) and jitter reproduce that deterministically.
    """
    if frame_times is not None:
        times = [float(t) for t in frame_times]
    else:
        count = max(1, math.floor(duration_s * fps + 1e-9))
        times = [i / fps for i in range(count)]
        if jitter_s:
            rng = np.random.default_rng(seed)
            offsets = rng.uniform(0, jitter_s, len(times))
            offsets[0] = 0.0  # the first frame stays at pts 0, as Chromium writes
            times = [t + float(o) for t, o in zip(times, offsets)]
    times = [t for t in times if not any(a <= t < b for a, b in gaps)]
    # Matroska stores milliseconds; two frames on one ms would collide.
    out: list[float] = []
    last_ms = -1
    for t in sorted(times):
        ms = round(t * 1000)
        if ms > last_ms and t < duration_s:
            out.append(ms / 1000)
            last_ms = ms
    return out


def make_webm_segment(
    path: str | os.PathLike[str],
    *,
    width: int,
    height: int,
    duration_s: float,
    fps: float = 20,
    pattern: str | Colour = "red",
    tone_hz: float | None = 440.0,
    start_frame_index: int = 0,
    audio: bool = True,
    noise: int = 0,
    bitrate: int | None = None,
    frame_times: Sequence[float] | None = None,
    gaps: Sequence[tuple[float, float]] = (),
    jitter_s: float = 0.0,
    time_offset_s: float = 0.0,
) -> str:
    """Write one self-contained VP8+Opus WebM segment and return its path.

    ``pattern``: a colour name or RGB tuple (a camera), or ``"screen"`` (a slide
    share with big text). ``tone_hz``: sine frequency, or None for digital
    silence (the audio stream is still there, as with a muted mic);
    ``audio=False`` writes a video-only file like a screen share without tab
    audio. ``start_frame_index`` continues the frame counter across segments;
    ``time_offset_s`` continues slide changes and tone phase. ``frame_times``,
    ``gaps`` and ``jitter_s`` give browser-like variable frame timing.
    """
    path = os.fspath(path)
    times = _frame_times(duration_s, fps, frame_times, gaps, jitter_s, seed=start_frame_index + 7)
    painter = _Painter(width, height, pattern, noise)
    ms = Fraction(1, 1000)

    with av.open(path, "w", format="webm") as container:
        vstream = container.add_stream("libvpx", rate=round(fps))
        vstream.width = width
        vstream.height = height
        vstream.pix_fmt = "yuv420p"
        vstream.codec_context.time_base = ms
        # Realtime, fastest VP8 settings: generation must stay cheap for the
        # 20-minute benchmark; quality is irrelevant beyond "recognisable".
        vstream.codec_context.bit_rate = bitrate or (
            1_000_000 if pattern == "screen" else max(300_000, width * height * 3 // 2)
        )
        vstream.codec_context.gop_size = 100_000  # one keyframe per segment, like Chromium
        vstream.options = {
            "deadline": "realtime",
            "cpu-used": "16",
            "lag-in-frames": "0",
            "auto-alt-ref": "0",
            "error-resilient": "0",
        }
        # One thread: generators run one process per core.
        vstream.codec_context.thread_count = 1

        astream = None
        if audio:
            astream = container.add_stream("libopus", rate=SAMPLE_RATE)
            astream.layout = "mono"
            astream.codec_context.bit_rate = 32_000

        # Interleave audio and video in time order, as a live muxer would.
        audio_samples = round(duration_s * SAMPLE_RATE)
        audio_pos = 0

        def write_audio_until(limit_s: float) -> None:
            nonlocal audio_pos
            assert astream is not None
            while audio_pos < audio_samples and audio_pos / SAMPLE_RATE <= limit_s:
                n = min(OPUS_FRAME, audio_samples - audio_pos)
                if tone_hz is None:
                    pcm = np.zeros((1, n), dtype=np.int16)
                else:
                    idx = np.arange(audio_pos, audio_pos + n, dtype=np.float64)
                    phase = 2 * np.pi * tone_hz * (idx / SAMPLE_RATE + time_offset_s)
                    pcm = (np.sin(phase) * 0.3 * 32767).astype(np.int16)[None, :]
                frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = audio_pos
                frame.time_base = Fraction(1, SAMPLE_RATE)
                container.mux(astream.encode(frame))
                audio_pos += n

        for vi, t in enumerate(times):
            if astream is not None:
                write_audio_until(t)
            n = start_frame_index + vi
            y, u, v = painter.paint(n, t + time_offset_s)
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane, data in zip(frame.planes, (y, u, v)):
                view = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
                view[:, : plane.width] = data
            frame.pts = round(t * 1000)
            frame.time_base = ms
            container.mux(vstream.encode(frame))
        if astream is not None:
            write_audio_until(duration_s + 1)
            container.mux(astream.encode(None))
        container.mux(vstream.encode(None))
    return path


def make_track(
    directory: str | os.PathLike[str],
    *,
    track_id: str,
    kind: TrackKind = "camera",
    segments: int,
    segment_s: float = 10.0,
    start: float = 0.0,
    gap_s: float = 0.0,
    width: int = 320,
    height: int = 180,
    fps: float = 20,
    pattern: str | Colour = "red",
    tone_hz: float | None = 440.0,
    audio: bool = True,
    noise: int = 0,
    skip_existing: bool = False,
) -> TrackInput:
    """A whole track as ``segments`` consecutive ~``segment_s`` WebM files.

    ``gap_s`` leaves a small hole between segments, as a MediaRecorder restart
    does. With ``skip_existing`` files already present are reused (benchmark
    cache).
    """
    os.makedirs(directory, exist_ok=True)
    refs: list[SegmentRef] = []
    t = start
    frames_per_segment = math.floor(segment_s * fps + 1e-9)
    for k in range(segments):
        path = os.path.join(os.fspath(directory), f"{track_id}-{k:05d}.webm")
        if not (skip_existing and os.path.exists(path)):
            with files.atomic_path(path, suffix=".webm") as tmp:
                make_webm_segment(
                    tmp,
                    width=width,
                    height=height,
                    duration_s=segment_s,
                    fps=fps,
                    pattern=pattern,
                    tone_hz=tone_hz,
                    start_frame_index=k * frames_per_segment,
                    audio=audio,
                    noise=noise,
                    time_offset_s=t - start,
                )
        refs.append(SegmentRef(path=path, start=round(t, 6)))
        t += segment_s + gap_s
    return TrackInput(track_id=track_id, kind=kind, segments=tuple(refs))


def make_marker_segment(
    path: str | os.PathLike[str],
    *,
    duration_s: float,
    markers: Sequence[float],
    width: int = 320,
    height: int = 180,
    fps: float = 20,
    marker_s: float = 0.2,
    tone_hz: float = 1000.0,
) -> str:
    """A WebM segment for A/V sync checks: grey and silent, except at each marker (seconds into
    the segment), where the picture flashes white and a tone sounds for ``marker_s``, both from the
    same instant. Place markers on the frame grid (multiples of 1/fps) so the flash starts exactly
    there. Used by the pause test and benchmark (docs/decisions/0022)."""
    path = os.fspath(path)
    ms = Fraction(1, 1000)
    samples = round(duration_s * SAMPLE_RATE)
    t_audio = np.arange(samples, dtype=np.float64) / SAMPLE_RATE
    on = np.zeros(samples, dtype=bool)
    for m in markers:
        on |= (t_audio >= m) & (t_audio < m + marker_s)
    pcm_all = np.where(on, np.sin(2 * np.pi * tone_hz * t_audio) * 0.5, 0.0)
    pcm_all = (pcm_all * 32767).astype(np.int16)
    with av.open(path, "w", format="webm") as container:
        vstream = container.add_stream("libvpx", rate=round(fps))
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.codec_context.time_base = ms
        vstream.codec_context.bit_rate = 300_000
        vstream.codec_context.gop_size = 100_000
        vstream.options = {"deadline": "realtime", "cpu-used": "16", "lag-in-frames": "0", "auto-alt-ref": "0"}
        vstream.codec_context.thread_count = 1
        astream = container.add_stream("libopus", rate=SAMPLE_RATE)
        astream.layout = "mono"
        astream.codec_context.bit_rate = 64_000
        audio_pos = 0

        def write_audio_until(limit_s: float) -> None:
            nonlocal audio_pos
            while audio_pos < samples and audio_pos / SAMPLE_RATE <= limit_s:
                n = min(OPUS_FRAME, samples - audio_pos)
                pcm = np.zeros((1, OPUS_FRAME), dtype=np.int16)
                pcm[0, :n] = pcm_all[audio_pos : audio_pos + n]
                frame = av.AudioFrame.from_ndarray(pcm[:, :n], format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = audio_pos
                frame.time_base = Fraction(1, SAMPLE_RATE)
                container.mux(astream.encode(frame))
                audio_pos += n

        count = max(1, math.floor(duration_s * fps + 1e-9))
        for i in range(count):
            t = i / fps
            write_audio_until(t)
            lit = any(m - 1e-6 <= t < m + marker_s - 1e-6 for m in markers)
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane, value in zip(frame.planes, (235 if lit else 60, 128, 128)):
                view = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
                view[:, : plane.width] = value
            frame.pts = round(t * 1000)
            frame.time_base = ms
            container.mux(vstream.encode(frame))
        write_audio_until(duration_s + 1)
        container.mux(astream.encode(None))
        container.mux(vstream.encode(None))
    return path
