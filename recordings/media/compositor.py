"""Compose one window of the recording timeline into an H.264 fragment.

``compose_window`` decodes every segment that overlaps ``[start, end)``,
places each frame at ``segment.start + (pts * time_base - first_ts)``, lays
the present tracks out (``layout.py``) and encodes exactly
``round((end - start) * fps)`` frames of 1920x1080 yuv420p at a constant
``fps`` with libx264, into an MP4 fragment whose first frame is an IDR frame
and whose timestamps start at 0, so ``assemble.py`` can join fragments by
remux alone.

Why it is fast: everything stays in YUV 4:2:0, with no RGB anywhere. Each
track decodes in its own thread (PyAV releases the GIL in codec and swscale
calls), overlapping with compositing and with x264's own threads. Since
presence and layout depend only on segment spans, they are computed for every
output tick up front, so that thread scales each frame once, straight to the
cell it will appear in (reused swscale context, area filter), and only if
some tick will show it: frames superseded before the next tick, and frames
before the window, are never scaled. The main thread pastes planes into a
canvas only when a tile's picture changed, and the canvas is itself the
frame handed to x264 (which copies its input), so nothing is copied per tick.

Why it is safe to rerun: the output depends only on the inputs (fixed x264
thread count, no clocks, no randomness), and the file appears under its final
name only when complete (write to a temp name, fsync, rename). A bad segment
never raises: it is reported and its seconds show the last good picture of
that participant, or black.
"""

from __future__ import annotations

import enum
import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from core import files

from .heap import tune_heap
from .layout import Cell, LayoutKind, PresentTrack, Rect, compute_layout, fit
from .stage import StageItem, stage_frames
from .timeline import (
    EPS,
    SegmentProblem,
    Span,
    TrackInput,
    describe_error,
    interval_index,
    presence_intervals,
    track_spans,
)

# Shipped defaults; see bench/README-compose.md for the measurements behind them.
DEFAULT_PRESET = "veryfast"
DEFAULT_CRF = 23
# A fixed x264 thread count keeps the bitstream identical on any machine (x264
# output depends on its thread count); 3 is x264's own choice for 2 cores
# and measured no slower than 4 there, with ~20 MB less memory.
DEFAULT_X264_THREADS = 3
KEYINT_SECONDS = 2  # a keyframe every 2 s: quick seeking in the browser player

BLACK_YUV = (16, 128, 128)
_DECODE_QUEUE_FRAMES = 1  # per track: decoding runs one frame ahead; each queued 1080p frame is ~3 MB of peak memory
DECODER_THREADS = 1


@dataclass(frozen=True)
class LayoutChange:
    time: float  # timeline seconds
    frame_index: int  # index within the window
    cells: tuple[Cell, ...]


@dataclass
class WindowReport:
    start: float
    end: float
    out_path: str
    frames: int = 0
    problems: list[SegmentProblem] = field(default_factory=list)
    layout_changes: list[LayoutChange] = field(default_factory=list)
    frames_decoded: int = 0
    tiles_scaled: int = 0


@dataclass
class _Decoded:
    time: float  # timeline seconds
    tick: int  # first output frame (of this window) that shows it
    frame: av.VideoFrame
    serial: int
    interval: int  # presence interval the frame belongs to
    scaled: av.VideoFrame | None = None  # ``frame`` at the size of its cell, if known
    scaled_size: tuple[int, int] | None = None


class _End(enum.Enum):
    """The decoder thread's last item on its queue: a typed sentinel."""

    END = enum.auto()


_END = _End.END

CellLookup = Callable[[str, int], "Rect | None"]


class _Scaler:
    """One reused swscale context; each thread that scales owns its own."""

    def __init__(self, kind: str) -> None:
        self.reformatter = VideoReformatter()
        # Area averaging: the right filter for the downscales that dominate
        # (webcams into tiles, a 1080p share onto the 1440-wide stage): text
        # stays legible, sensor noise is averaged away, and it is the cheapest
        # swscale filter here (0.45 ms a 720p->270p tile vs 0.8 bilinear and
        # 1.8 ms a 1080p share vs 4.0 bicubic). Upscales fall back to bilinear.
        del kind
        self.interpolation = Interpolation.AREA
        self.count = 0

    def scale(self, frame: av.VideoFrame, w: int, h: int) -> av.VideoFrame:
        if frame.width == w and frame.height == h and frame.format.name == "yuv420p":
            return frame
        self.count += 1
        return self.reformatter.reformat(frame, w, h, "yuv420p", interpolation=self.interpolation)


class _TrackSource:
    """Decoded frames of one track, in timeline order, read ahead by a thread.

    The thread also drops frames that no output tick will show (superseded
    before the next tick, e.g. everything before the window but its last
    frame) and scales the rest to the size of the cell they will first
    appear in, so the main thread mostly just pastes planes.
    """

    def __init__(
        self,
        track: TrackInput,
        spans: list[Span],
        intervals: list[tuple[float, float]],
        *,
        start: float,
        end: float,
        fps: int,
        cell_at: CellLookup,
        problems: list[SegmentProblem],
    ) -> None:
        self.track = track
        self.intervals = intervals
        self.problems = problems
        self._window = (start, end)
        self._fps = fps
        self._cell_at = cell_at
        self.decode_spans = self._spans_to_decode(spans, start, end)
        self.current: _Decoded | None = None
        self._peek: _Decoded | None = None
        self._done = False
        self.frames_decoded = 0
        self.thread_scaler = _Scaler(track.kind)
        self.main_scaler = _Scaler(track.kind)
        self._queue: queue.Queue[_Decoded | _End] = queue.Queue(maxsize=_DECODE_QUEUE_FRAMES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"decode-{track.track_id}", daemon=True)
        self._thread.start()

    def _spans_to_decode(self, spans: list[Span], start: float, end: float) -> list[Span]:
        overlapping = [s for s in spans if s.end > start + EPS and s.start < end - EPS]
        chosen = list(overlapping)
        first_idx = spans.index(overlapping[0]) if overlapping else len(spans)
        # The picture held at the window start may come from the segment
        # before: when the first overlapping one is unreadable or starts later.
        if first_idx > 0:
            prev = spans[first_idx - 1]
            start_iv = interval_index(self.intervals, start)
            needs_prev = not overlapping or not overlapping[0].readable or overlapping[0].start > start + EPS
            same_presence = start_iv is not None and interval_index(self.intervals, prev.start) == start_iv
            if needs_prev and same_presence and prev.readable:
                chosen.insert(0, prev)
        return chosen

    # -- decoding thread ----------------------------------------------------

    def _run(self) -> None:
        start, _end = self._window
        serial = 0
        pending: _Decoded | None = None
        try:
            for t, frame in self._timed_frames():
                if self._stop.is_set():
                    return
                iv = interval_index(self.intervals, t)
                if iv is None:
                    continue
                tick = max(0, math.ceil((t - start) * self._fps - 1e-6))
                serial += 1
                decoded = _Decoded(t, tick, frame, serial, iv)
                if pending is not None and (pending.tick != tick or pending.interval != iv):
                    self._emit(pending)
                # else: the newer frame reaches the same tick first, so
                # the pending one would never be seen: drop it unscaled.
                pending = decoded
            if pending is not None and not self._stop.is_set():
                self._emit(pending)
        except Exception as exc:  # noqa: BLE001 - never let a thread die silently
            self.problems.append(
                SegmentProblem(self.track.track_id, "", self._window[0], self._window[1], describe_error(exc))
            )
        finally:
            self._queue.put(_END)

    def _timed_frames(self) -> Iterator[tuple[float, av.VideoFrame]]:
        """(timeline seconds, frame) in order; a failing segment costs only its own frames."""
        for span in self.decode_spans:
            try:
                yield from self._decode_span(span)
            except Exception as exc:  # noqa: BLE001 - any failure costs only this segment
                self._problem(span, f"failed: {describe_error(exc)}")

    def _emit(self, decoded: _Decoded) -> None:
        cell = self._cell_at(self.track.track_id, decoded.tick)
        if cell is not None:
            placed = fit(decoded.frame.width, decoded.frame.height, cell)
            decoded.scaled = self.thread_scaler.scale(decoded.frame, placed.w, placed.h)
            decoded.scaled_size = (placed.w, placed.h)
        self._queue.put(decoded)

    def _problem(self, span: Span, reason: str) -> None:
        # Only the window's own seconds are its problems (a segment decoded
        # just for its last picture is reported by the window it belongs to).
        if span.end <= self._window[0] + EPS:
            return
        # list.append is atomic under the GIL; the report is read after join().
        self.problems.append(SegmentProblem(self.track.track_id, span.ref.path, span.start, span.end, reason))

    def _decode_span(self, span: Span) -> Iterator[tuple[float, av.VideoFrame]]:
        if not span.readable:
            self._problem(span, f"unreadable segment: {span.error}")
            return
        if span.error:
            self._problem(span, f"damaged segment, using what decodes: {span.error}")
        try:
            container = av.open(span.ref.path, metadata_errors="ignore")
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._problem(span, f"cannot open: {describe_error(exc)}")
            return
        try:
            if not container.streams.video:
                self._problem(span, "segment has no video stream")
                return
            stream = container.streams.video[0]
            # One thread per decoder: the tracks already decode in parallel
            # (one Python thread each, GIL released), and codec frame
            # threading would multiply frame buffers per track for nothing.
            stream.codec_context.thread_count = DECODER_THREADS
            tb = float(stream.time_base or 0)
            offset = span.start - span.first_ts
            window_end = self._window[1]
            last_t = span.start
            try:
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        if frame.pts is None:
                            continue
                        t = offset + frame.pts * tb
                        if t >= span.end - EPS or t >= window_end - EPS:
                            return  # past this window, or owned by the next segment
                        t = max(t, span.start)
                        last_t = t
                        self.frames_decoded += 1
                        yield t, frame
            except (av.FFmpegError, ValueError) as exc:
                self._problem(span, f"decoding stopped at {last_t:.3f}s: {describe_error(exc)}")
        finally:
            container.close()

    # -- consumer side ------------------------------------------------------

    def _next(self) -> _Decoded | None:
        if self._done:
            return None
        item = self._queue.get()
        if item is _END:
            self._done = True
            return None
        return item

    def advance_to(self, tick: int) -> _Decoded | None:
        """The newest frame due at or before output frame ``tick``."""
        while True:
            if self._peek is None:
                self._peek = self._next()
                if self._peek is None:
                    break
            if self._peek.tick <= tick:
                self.current, self._peek = self._peek, None
            else:
                break
        return self.current

    def scaled_for(self, decoded: _Decoded, w: int, h: int) -> av.VideoFrame:
        """The frame at ``w`` x ``h``; scaled here only if the layout changed under it."""
        if decoded.scaled is None or decoded.scaled_size != (w, h):
            decoded.scaled = self.main_scaler.scale(decoded.frame, w, h)
            decoded.scaled_size = (w, h)
        return decoded.scaled

    def close(self) -> None:
        self._stop.set()
        # Drain so a producer blocked on a full queue sees the stop flag.
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()


class _StageSource(_TrackSource):
    """A presentation's pictures (stage.py), read ahead and scaled like a track's frames."""

    def __init__(
        self,
        item: StageItem,
        *,
        start: float,
        end: float,
        fps: int,
        cell_at: CellLookup,
        problems: list[SegmentProblem],
    ) -> None:
        self.item = item  # before the thread starts (in the base constructor)
        track = TrackInput(track_id=item.item_id, kind="screen", segments=())
        intervals = [(item.start, item.end)]
        super().__init__(track, [], intervals, start=start, end=end, fps=fps, cell_at=cell_at, problems=problems)

    def _timed_frames(self) -> Iterator[tuple[float, av.VideoFrame]]:
        start, end = self._window
        for t, frame in stage_frames(self.item, start=start, end=end, fps=self._fps, problems=self.problems):
            self.frames_decoded += 1
            yield t, frame


def _plane_views(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-copy numpy views of a yuv420p frame's planes (keep the frame alive)."""
    out = []
    for plane in frame.planes[:3]:
        arr = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
        out.append(arr[:, : plane.width])
    return out[0], out[1], out[2]


class _Canvas:
    """The output picture, painted incrementally in place.

    Its planes are views into one ``VideoFrame`` that is sent to the encoder
    again and again: libx264 copies the picture into its own buffers inside
    the encode call, so repainting afterwards is safe and no per-frame copy
    of the whole canvas is needed.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.frame = av.VideoFrame(width, height, "yuv420p")
        self.y, self.u, self.v = _plane_views(self.frame)
        self.clear()

    def clear(self, rect: Rect | None = None) -> None:
        if rect is None:
            rect = Rect(0, 0, self.width, self.height)
        x, y, w, h = rect.x, rect.y, rect.w, rect.h
        self.y[y : y + h, x : x + w] = BLACK_YUV[0]
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = BLACK_YUV[1]
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = BLACK_YUV[2]

    def paste(self, rect: Rect, picture: av.VideoFrame) -> None:
        py, pu, pv = _plane_views(picture)
        x, y, w, h = rect.x, rect.y, rect.w, rect.h
        self.y[y : y + h, x : x + w] = py
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pu
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = pv


@dataclass
class _Tile:
    """What is painted in one track's cell, so unchanged tiles are skipped."""

    serial: int | None = None
    placed: Rect | None = None


def _open_encoder(
    path: str, *, width: int, height: int, fps: int, preset: str, crf: int, threads: int
) -> tuple[av.container.OutputContainer, av.video.stream.VideoStream]:
    container = av.open(path, "w", format="mp4")
    stream = container.add_stream("libx264", rate=fps)
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    cc = stream.codec_context
    cc.time_base = Fraction(1, fps)
    cc.thread_count = threads
    cc.thread_type = "FRAME"
    keyint = KEYINT_SECONDS * fps
    stream.options = {
        "preset": preset,
        "crf": str(crf),
        # Closed GOPs (x264's default) and a fixed keyint: every fragment
        # starts with an IDR frame and references nothing outside itself.
        "x264-params": f"keyint={keyint}:min-keyint={fps}:scenecut=40",
    }
    return container, stream


def compose_window(
    tracks: Sequence[TrackInput],
    *,
    start: float,
    end: float,
    out_path: str,
    fps: int = 30,
    width: int = 1920,
    height: int = 1080,
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    x264_threads: int = DEFAULT_X264_THREADS,
    stage: Sequence[StageItem] = (),
) -> WindowReport:
    """Compose timeline seconds ``[start, end)`` into an H.264 MP4 fragment.

    Window bounds should be multiples of ``1/fps`` so fragments tile the
    timeline exactly; the fragment has ``round((end - start) * fps)`` frames.
    ``stage`` are the presentations (stage.py), laid out as stage items like shares.
    """
    if end <= start:
        raise ValueError("empty window")
    if width % 2 or height % 2:
        raise ValueError("width and height must be even for yuv420p")
    tune_heap()
    n_frames = round((end - start) * fps)
    report = WindowReport(start=start, end=end, out_path=out_path)

    # Presence and layout for every output tick are known before decoding
    # (they depend on segment spans only), so decoder threads can scale each
    # frame straight to the cell it will appear in.
    order: dict[str, tuple[float, str]] = {}
    track_intervals: dict[str, list[tuple[float, float]]] = {}
    track_span_lists: dict[str, list[Span]] = {}
    kinds: dict[str, LayoutKind] = {}
    for track in tracks:
        first = min((s.start for s in track.segments), default=0.0)
        order[track.track_id] = (first, track.track_id)
        kinds[track.track_id] = track.kind
        spans = track_spans(track, since=start)
        track_span_lists[track.track_id] = spans
        track_intervals[track.track_id] = presence_intervals(spans)
    # Only the presentations this window shows: each is present over its one span.
    items = [item for item in stage if item.end > start + EPS and item.start < end - EPS]
    for item in items:
        if item.item_id in kinds:
            raise ValueError(f"stage item id {item.item_id!r} is also a track id")
        order[item.item_id] = (item.start, item.item_id)
        kinds[item.item_id] = "presentation"
        track_intervals[item.item_id] = [(item.start, item.end)]

    tick_layouts: list[tuple[Cell, ...]] = []
    tick_intervals: list[dict[str, int]] = []
    layout_cache: dict[tuple[PresentTrack, ...], tuple[Cell, ...]] = {}
    for i in range(n_frames):
        t = start + i / fps
        present: list[PresentTrack] = []
        ivs: dict[str, int] = {}
        for track_id, kind in kinds.items():
            iv = interval_index(track_intervals[track_id], t)
            if iv is not None:
                ivs[track_id] = iv
                since = track_intervals[track_id][iv][0]
                present.append(PresentTrack(track_id, kind, order[track_id], since))
        key = tuple(present)
        if key not in layout_cache:
            layout_cache[key] = compute_layout(present, width, height)
        tick_layouts.append(layout_cache[key])
        tick_intervals.append(ivs)
    cell_maps = {id(lay): {c.track_id: c.rect for c in lay} for lay in layout_cache.values()}

    def cell_at(track_id: str, tick: int) -> Rect | None:
        if tick >= n_frames:
            return None
        return cell_maps[id(tick_layouts[tick])].get(track_id)

    sources: dict[str, _TrackSource] = {}
    problems: list[SegmentProblem] = []
    try:
        # The fragment appears under its final name only when complete (fsynced, then renamed).
        with files.atomic_path(out_path) as tmp_path:
            for track in tracks:
                sources[track.track_id] = _TrackSource(
                    track,
                    track_span_lists[track.track_id],
                    track_intervals[track.track_id],
                    start=start,
                    end=end,
                    fps=fps,
                    cell_at=cell_at,
                    problems=problems,
                )
            for item in items:
                sources[item.item_id] = _StageSource(
                    item, start=start, end=end, fps=fps, cell_at=cell_at, problems=problems
                )
            tiles: dict[str, _Tile] = {track_id: _Tile() for track_id in sources}
            canvas = _Canvas(width, height)
            time_base = Fraction(1, fps)
            container, stream = _open_encoder(
                tmp_path, width=width, height=height, fps=fps, preset=preset, crf=crf, threads=x264_threads
            )
            try:
                layout: tuple[Cell, ...] | None = None
                for i in range(n_frames):
                    new_layout = tick_layouts[i]
                    if new_layout is not layout:
                        layout = new_layout
                        report.layout_changes.append(LayoutChange(start + i / fps, i, new_layout))
                        canvas.clear()
                        for tile in tiles.values():
                            tile.serial, tile.placed = None, None
                    for track_id, source in sources.items():
                        current = source.advance_to(i)
                        cell = cell_maps[id(layout)].get(track_id)
                        tile = tiles[track_id]
                        if cell is None:
                            continue
                        if current is None or current.interval != tick_intervals[i].get(track_id):
                            # Present but nothing to show yet: a black cell.
                            if tile.serial is not None:
                                canvas.clear(cell)
                                tile.serial, tile.placed = None, None
                            continue
                        if tile.serial == current.serial:
                            continue  # held picture already on the canvas
                        placed = fit(current.frame.width, current.frame.height, cell)
                        if tile.placed is not None and tile.placed != placed:
                            canvas.clear(cell)  # the source changed shape: repaint the bars
                        canvas.paste(placed, source.scaled_for(current, placed.w, placed.h))
                        tile.serial, tile.placed = current.serial, placed
                    canvas.frame.pts = i
                    canvas.frame.time_base = time_base
                    container.mux(stream.encode(canvas.frame))
                    report.frames += 1
                container.mux(stream.encode(None))
            finally:
                container.close()
    finally:
        for source in sources.values():
            source.close()
    report.frames_decoded = sum(s.frames_decoded for s in sources.values())
    report.tiles_scaled = sum(s.thread_scaler.count + s.main_scaler.count for s in sources.values())
    # Problems arrive from decoder threads in any order; sort for a stable report.
    report.problems = sorted(set(problems), key=lambda p: (p.track_id, p.start, p.reason))
    return report
