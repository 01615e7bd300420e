"""What was presented on the stage (an image, a PDF page, a library video), drawn from the stored item.

A presentation is not a capture of anyone's screen: the recording draws the item itself, from its
stored file, at the size of the stage cell (1440x1080, or the whole 1920x1080 frame alone), so
slides stay sharp. What was shown when comes from the presentation's event log, turned by the
Django side (recordings/stage.py) into a ``StageItem`` on the recording's output timeline: a list
of ``StageStep`` s, each saying what holds from its instant on (a picture file, or a video position
and whether the video advances). Pure functions over PyAV and numpy; no Django.

Rules:

* A presentation is a stage item like a screen share: present over ``[start, end)``; the most
  recently started stage item has the stage (``layout.py``).
* A picture step shows from the first output frame at or after its instant (as every camera
  frame does), so a page turn lands within one frame of the logged time.
* A video shows, at output time ``t``, the video frame current at position
  ``p(t) = position + (t - at if playing else 0)`` (clamped at 0; past the end its last frame
  holds). A window seeks once to its first position and then decodes forward; a logged seek
  (a backwards jump, or one far ahead) seeks again, so a window's cost is bounded by its own
  length, never by how far into the video it is.
* The video's sound is mixed where it played: each playing step's span takes the audio from its
  position on; paused spans are silent. Position 0 is the file's first timestamp (the
  container's start time), for the picture and the sound alike.
* Pauses of the recording (``cuts.py``) cut the presentation like any track: ``cut_stage_item``
  moves it onto the output timeline, and a video that played on through a pause resumes, after
  the cut, at the position it had reached (what viewers saw when recording resumed).
* A file that cannot be read never fails the window: it is reported as a ``SegmentProblem``
  and its seconds show black (or are silent).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation

from .cuts import CutTimeline
from .timeline import EPS, SegmentProblem, describe_error

StageItemKind = Literal["image", "pdf", "video"]

# A forward jump in video position larger than this seeks instead of decoding through.
SEEK_AHEAD_S = 2.0


@dataclass(frozen=True)
class StageStep:
    """What the item shows from ``at`` (timeline seconds) until the next step."""

    at: float
    image: str | None = None  # local file of the picture (the image, or the PDF page); None for a video
    position: float = 0.0  # video: position in seconds at ``at``
    playing: bool = False  # video: advancing from ``at``

    def position_at(self, t: float) -> float:
        return max(0.0, self.position + ((t - self.at) if self.playing else 0.0))


@dataclass(frozen=True)
class StageItem:
    """One presentation on the timeline: present over ``[start, end)``, its steps in time order."""

    item_id: str
    kind: StageItemKind
    start: float
    end: float
    steps: tuple[StageStep, ...]
    video: str | None = None  # local file of the video (kind "video")

    def runs(self, a: float, b: float) -> list[tuple[float, float, StageStep]]:
        """The steps in force over ``[a, b)`` (within the item's span): (from, to, step), in order.

        Before the first step, what it shows holds, standing still (a presentation starts a hair
        before its first event; a video does not play before it is told to).
        """
        lo, hi = max(a, self.start), min(b, self.end)
        if hi <= lo + EPS or not self.steps:
            return []
        steps = sorted(self.steps, key=lambda s: s.at)
        out: list[tuple[float, float, StageStep]] = []
        if lo < steps[0].at - EPS:
            out.append((lo, min(hi, steps[0].at), replace(steps[0], playing=False)))
        for i, step in enumerate(steps):
            s_b = steps[i + 1].at if i + 1 < len(steps) else math.inf
            ra, rb = max(lo, step.at), min(hi, s_b)
            if rb > ra + EPS:
                out.append((ra, rb, step))
        return out


def cut_stage_item(item: StageItem, cuts: CutTimeline) -> StageItem | None:
    """The item on the output timeline of a paused recording (``item`` is on its media timeline).

    Each recorded span keeps its part of the item, shifted as ``CutTimeline.cut_track`` shifts
    segments; at every resume a step restates what was shown then (a playing video's position
    having advanced through the pause). None if the item was shown only while paused.
    """
    fps = cuts.fps
    steps: list[StageStep] = []
    out_start: float | None = None
    out_end = 0.0
    for k in cuts.kept:
        ka = k.start / fps
        kb = math.inf if k.end is None else k.end / fps
        shift = (k.start - k.out) / fps
        runs = item.runs(ka, kb)
        if not runs:
            continue
        if out_start is None:
            out_start = runs[0][0] - shift
        out_end = runs[-1][1] - shift
        for ra, _rb, step in runs:
            steps.append(replace(step, at=ra - shift, position=step.position_at(ra)))
    if out_start is None:
        return None
    return replace(item, start=out_start, end=out_end, steps=tuple(steps))


def _problem(item: StageItem, path: str, a: float, b: float, reason: str) -> SegmentProblem:
    return SegmentProblem(item.item_id, path, a, b, reason)


def canvas_format(frame: av.VideoFrame, *, max_w: int = 1920, max_h: int = 1080) -> av.VideoFrame:
    """The picture as the canvas holds pictures: yuv420p, limited range, at most ``max_w`` x ``max_h``.

    Pictures decode to RGB (or full-range YUV, JPEG) and the canvas is limited-range yuv420p like the
    cameras: left to swscale's defaults a page's black would be 0 instead of 16 and every colour off.
    A picture larger than the frame is brought down to it once, so a huge photo costs its size once
    per window, not once per scale.
    """
    w, h = frame.width, frame.height
    scale = min(1.0, max_w / w, max_h / h)
    tw, th = max(2, int(w * scale) & ~1), max(2, int(h * scale) & ~1)
    full = frame.color_range == ColorRange.JPEG or frame.format.name.startswith("yuvj")
    if frame.format.name == "yuv420p" and not full and (tw, th) == (w, h):
        return frame
    return frame.reformat(
        tw,
        th,
        "yuv420p",
        src_color_range=ColorRange.JPEG if full or frame.format.is_rgb else ColorRange.MPEG,
        dst_color_range=ColorRange.MPEG,
        interpolation=Interpolation.AREA,
    )


def _black() -> av.VideoFrame:
    """A black 16:9 picture (limited range), for a step whose file cannot be read."""
    planes = np.full((270, 320), 16, dtype=np.uint8)
    planes[180:] = 128
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def load_picture(path: str) -> av.VideoFrame:
    """The first picture of an image file (PNG, JPEG, WebP, ...), decoded by FFmpeg, in canvas format."""
    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.video:
            raise ValueError("no picture in the file")
        for frame in container.decode(video=0):
            return canvas_format(frame)
    raise ValueError("no picture decoded")


class VideoReader:
    """Frames of a video by position: decodes forward, seeks on a jump back or far ahead."""

    def __init__(self, path: str) -> None:
        self.container = av.open(path, metadata_errors="ignore")
        if not self.container.streams.video:
            self.container.close()
            raise ValueError("no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.codec_context.thread_count = 1
        self.time_base = float(self.stream.time_base or 0)
        if not self.time_base:
            self.container.close()
            raise ValueError("video stream without a time base")
        # Position 0 is the file's first timestamp (as for a browser's currentTime).
        self.origin = max(0.0, (self.container.start_time or 0) / av.time_base)
        self._frames: Iterator[tuple[float, av.VideoFrame]] | None = None
        self.current: tuple[float, av.VideoFrame] | None = None
        self._ahead: tuple[float, av.VideoFrame] | None = None
        self._ended = False  # decoded to the end: the last frame holds for any later position
        self.seeks = 0
        self.decoded = 0

    def _decode(self) -> Iterator[tuple[float, av.VideoFrame]]:
        for packet in self.container.demux(self.stream):
            for frame in packet.decode():
                if frame.pts is None:
                    continue
                self.decoded += 1
                yield frame.pts * self.time_base - self.origin, canvas_format(frame)

    def _seek(self, position: float) -> None:
        self.seeks += 1
        target = int((position + self.origin) / self.time_base)
        self.container.seek(max(target, 0), stream=self.stream, backward=True, any_frame=False)
        self._frames = self._decode()
        self.current = self._ahead = None
        self._ended = False

    def frame_at(self, position: float) -> av.VideoFrame | None:
        """The frame shown at ``position`` (the last one at or before it; the first if none is)."""
        cur = self.current
        back = cur is not None and position < cur[0] - EPS
        far = cur is not None and not self._ended and position > cur[0] + SEEK_AHEAD_S
        if self._frames is None or back or far:
            self._seek(position)
        assert self._frames is not None
        while True:
            if self._ahead is None:
                self._ahead = next(self._frames, None)
                if self._ahead is None:
                    self._ended = True  # the last frame holds
                    break
            if self._ahead[0] <= position + EPS or self.current is None:
                self.current, self._ahead = self._ahead, None
            else:
                break
        return None if self.current is None else self.current[1]

    def close(self) -> None:
        self.container.close()


def stage_frames(
    item: StageItem, *, start: float, end: float, fps: int, problems: list[SegmentProblem]
) -> Iterator[tuple[float, av.VideoFrame]]:
    """(timeline seconds, picture) for every change of the item's picture within ``[start, end)``.

    The first is at the window start (or the item's start), so a held picture is redrawn; a
    picture is decoded once per window however often it comes back.
    """
    a, b = max(start, item.start), min(end, item.end)
    if b <= a + EPS:
        return
    if item.kind != "video":
        pictures: dict[str, av.VideoFrame | None] = {}
        for ra, rb, step in item.runs(a, b):
            if step.image is None:
                continue
            if step.image not in pictures:
                try:
                    pictures[step.image] = load_picture(step.image)
                except (av.FFmpegError, OSError, ValueError) as exc:
                    problems.append(
                        _problem(item, step.image, ra, rb, f"cannot read the picture: {describe_error(exc)}")
                    )
                    pictures[step.image] = None
            # An unreadable page shows black for its seconds, never the page before it.
            yield ra, pictures[step.image] or _black()
        return
    if item.video is None or not item.runs(a, b):
        return
    try:
        reader = VideoReader(item.video)
    except (av.FFmpegError, OSError, ValueError) as exc:
        problems.append(_problem(item, item.video, a, b, f"cannot open the video: {describe_error(exc)}"))
        return
    try:
        runs = item.runs(a, b)
        first_tick = max(0, math.ceil((a - start) * fps - 1e-6))
        last: av.VideoFrame | None = None
        for i in range(first_tick, round((end - start) * fps)):
            t = start + i / fps
            if t >= b - EPS:
                break
            step = next((s for ra, rb, s in runs if ra - EPS <= t < rb - EPS), runs[-1][2])
            try:
                frame = reader.frame_at(step.position_at(t))
            except (av.FFmpegError, ValueError) as exc:
                problems.append(_problem(item, item.video, t, b, f"video decoding stopped: {describe_error(exc)}"))
                return
            if frame is not None and frame is not last:
                last = frame
                yield max(t, a), frame
    finally:
        reader.close()


def stage_audio(
    item: StageItem, *, from_sample: int, to_sample: int, rate: int, problems: list[SegmentProblem]
) -> Iterator[tuple[int, np.ndarray]]:
    """A presented video's sound where it played in ``[from_sample, to_sample)``: (timeline sample, float32 [2, n])."""
    if item.kind != "video" or item.video is None:
        return
    for ra, rb, step in item.runs(from_sample / rate, to_sample / rate):
        if not step.playing:
            continue
        a, b = round(ra * rate), round(rb * rate)
        try:
            yield from _video_pcm(item.video, step.position_at(a / rate), a, b, rate)
        except (av.FFmpegError, OSError, ValueError) as exc:
            problems.append(_problem(item, item.video, ra, rb, f"video sound failed, silence: {describe_error(exc)}"))


def _video_pcm(path: str, position: float, a: int, b: int, rate: int) -> Iterator[tuple[int, np.ndarray]]:
    """The file's sound from ``position`` laid from timeline sample ``a``, up to ``b``."""
    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.audio:
            return  # a video without sound
        stream = container.streams.audio[0]
        tb = float(stream.time_base or 0)
        origin = max(0.0, (container.start_time or 0) / av.time_base)
        if position > 0:
            container.seek(max(int((position + origin) / tb), 0), stream=stream, backward=True, any_frame=False)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        pos: int | None = None
        for packet in container.demux(stream):
            for frame in packet.decode():
                if pos is None:
                    if frame.pts is None:
                        continue
                    # Where this frame's first sample lands: contiguous after it (no resync needed for a file).
                    pos = a + round((frame.pts * tb - origin - position) * rate)
                for out in resampler.resample(frame):
                    data = out.to_ndarray()
                    if data.ndim == 1 or data.shape[0] != 2:
                        data = data.reshape(-1, 2).T
                    data = data.astype(np.float32, copy=False)
                    lo, hi = max(pos, a), min(pos + data.shape[1], b)
                    if hi > lo:
                        yield lo, data[:, lo - pos : hi - pos]
                    pos += data.shape[1]
                    if pos >= b:
                        return
