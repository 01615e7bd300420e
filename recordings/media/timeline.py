"""Where each segment's media lands on the recording timeline.

Shared by the compositor and the audio mixer so both agree, to the sample and
the frame, on which seconds a segment covers and when a participant is
present. Pure functions over PyAV; no Django.

Timing rules (browser WebM has no duration and variable frame rate, so frames
are placed by ``pts * time_base``, never by index):

* a segment's media time 0 is its *first timestamp* (the container's
  ``start_time``, the minimum over its streams; 0 for Chromium files) and
  lands on ``SegmentRef.start``;
* a segment covers ``[start, start + duration)``; an unknown duration is
  measured by demuxing (cheap: no decoding). Segments of one track do not
  overlap: a segment's span is clipped at the next one's start (the newer
  upload wins);
* a segment that cannot be opened at all still covers its seconds (the
  participant was there, the bytes are bad): its declared duration, else up
  to the next segment, at most ``NOMINAL_SEGMENT_S``; likewise a readable
  segment that ends well before the next one starts (a truncated file,
  which demuxes without error) keeps its whole slot;
* a track is present over the union of its spans, with gaps up to
  ``PRESENCE_BRIDGE_S`` bridged: MediaRecorder restarts leave holes of tens of
  milliseconds between segments that must not make the layout flicker.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import av

TrackKind = Literal["camera", "screen"]

NOMINAL_SEGMENT_S = 10.0
PRESENCE_BRIDGE_S = 1.0
# A frame time a hair past a boundary still belongs before it: float sums of
# segment starts and pts must not flip a frame onto the wrong output tick.
EPS = 1e-6


@dataclass(frozen=True)
class SegmentRef:
    """One self-contained WebM file (VP8/VP9 + Opus) from the browser."""

    path: str
    # Seconds on the recording timeline where this segment's first timestamp lands.
    start: float
    # Server-side measured length if known; None means "measure it".
    duration: float | None = None
    # Seconds of the file's media cut from its beginning (a segment split where a pause was cut
    # out, recordings/media/cuts.py): the media at first timestamp + skip lands on ``start``, and
    # what comes before it is not used.
    skip: float = 0.0


@dataclass(frozen=True)
class TrackInput:
    track_id: str
    kind: TrackKind
    segments: tuple[SegmentRef, ...]


@dataclass(frozen=True)
class SegmentProblem:
    """A segment (or part of one) that could not be used, and why."""

    track_id: str
    path: str
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class SegmentProbe:
    """What demuxing a file (without decoding) tells about it."""

    first_ts: float  # seconds, the container's first timestamp
    duration: float | None  # measured from packet timestamps; None if unreadable
    has_video: bool
    has_audio: bool
    error: str | None


@dataclass(frozen=True)
class Span:
    """The timeline seconds one segment is responsible for."""

    track_id: str
    ref: SegmentRef
    start: float
    end: float
    first_ts: float
    readable: bool
    error: str | None


# Probing is cheap but a compose task probes the same few files for video and
# audio, and a worker process composes window after window of one recording.
# Keyed by (path, size, mtime) so a replaced file is probed again.
_PROBE_CACHE: OrderedDict[tuple[str, int, int], SegmentProbe] = OrderedDict()
_PROBE_CACHE_MAX = 4096
_PROBE_LOCK = threading.Lock()


def describe_error(exc: BaseException) -> str:
    """One line for the report, without a traceback."""
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:300]


def probe_segment(path: str) -> SegmentProbe:
    """First timestamp and measured duration of a segment, by demuxing only."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return SegmentProbe(0.0, None, False, False, describe_error(exc))
    key = (path, st.st_size, st.st_mtime_ns)
    with _PROBE_LOCK:
        cached = _PROBE_CACHE.get(key)
        if cached is not None:
            _PROBE_CACHE.move_to_end(key)
            return cached
    probe = _probe_uncached(path)
    with _PROBE_LOCK:
        _PROBE_CACHE[key] = probe
        while len(_PROBE_CACHE) > _PROBE_CACHE_MAX:
            _PROBE_CACHE.popitem(last=False)
    return probe


def _probe_uncached(path: str) -> SegmentProbe:
    try:
        with av.open(path, metadata_errors="ignore") as container:
            has_video = bool(container.streams.video)
            has_audio = bool(container.streams.audio)
            if not (has_video or has_audio):
                return SegmentProbe(0.0, None, False, False, "no audio or video stream")
            first: float | None = None
            last_end: float | None = None
            # Browser WebM blocks carry no duration: the last video frame
            # lasts one typical frame interval, not zero.
            video_times: list[float] = []
            streams = container.streams.video[:1] + container.streams.audio[:1]
            error: str | None = None
            try:
                for packet in container.demux(streams):
                    if packet.pts is None or packet.time_base is None:
                        continue
                    t = float(packet.pts * packet.time_base)
                    dur = float(packet.duration * packet.time_base) if packet.duration else 0.0
                    if packet.stream.type == "video":
                        video_times.append(t)
                    first = t if first is None else min(first, t)
                    last_end = t + dur if last_end is None else max(last_end, t + dur)
            except av.FFmpegError as exc:
                # A truncated file: what was readable still counts.
                error = describe_error(exc)
            if first is None or last_end is None:
                return SegmentProbe(0.0, None, has_video, has_audio, error or "no packets")
            if len(video_times) >= 2:
                video_times.sort()
                steps = sorted(b - a for a, b in itertools.pairwise(video_times) if b > a)
                if steps:
                    frame_s = min(steps[len(steps) // 2], 1.0)
                    last_end = max(last_end, video_times[-1] + frame_s)
            # "First timestamp" means pts 0 for browser files; the slightly
            # negative start of Opus priming must not shift the pictures.
            origin = max(0.0, first)
            return SegmentProbe(origin, max(0.0, last_end - origin), has_video, has_audio, error)
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        return SegmentProbe(0.0, None, False, False, describe_error(exc))


def track_spans(track: TrackInput, *, since: float | None = None) -> list[Span]:
    """Spans of a track's segments in timeline order.

    With ``since``, segments that certainly end before it (the next segment
    starts before ``since - PRESENCE_BRIDGE_S``) are skipped without probing,
    so composing a late window of a long recording does not open every file.
    One segment before the window is always kept: it decides whether the
    track is present at the window start and provides the held frame.
    """
    segs = sorted(track.segments, key=lambda s: (s.start, s.path))
    spans: list[Span] = []
    for i, ref in enumerate(segs):
        next_start = segs[i + 1].start if i + 1 < len(segs) else None
        if since is not None and i + 2 < len(segs) and segs[i + 2].start < since - PRESENCE_BRIDGE_S:
            continue
        probe = probe_segment(ref.path)
        readable = probe.duration is not None
        # What the file would cover if it were whole: up to the next segment,
        # at most a nominal segment length.
        nominal = NOMINAL_SEGMENT_S
        if next_start is not None:
            nominal = min(nominal, max(0.0, next_start - ref.start))
        if ref.duration is not None:
            length = ref.duration
        elif probe.duration is not None and probe.error is None:
            length = max(probe.duration - ref.skip, 0.0)
        elif probe.duration is not None:
            # Truncated: its lost tail still belongs to it (held frame, silence).
            length = max(probe.duration - ref.skip, nominal)
        else:
            length = nominal
        error = probe.error
        if (
            ref.duration is None
            and readable
            and next_start is not None
            and next_start - ref.start <= NOMINAL_SEGMENT_S + PRESENCE_BRIDGE_S
            and next_start - ref.start - length > PRESENCE_BRIDGE_S
        ):
            # Segments of one track come from one continuous recorder, so a
            # segment that stops well short of the next one lost its tail
            # (a truncated file demuxes without an error): it keeps its slot.
            error = error or f"media ends {length:.2f}s into its {next_start - ref.start:.2f}s slot (truncated?)"
            length = next_start - ref.start
        end = ref.start + length
        if next_start is not None:
            end = min(end, next_start)
        if end <= ref.start:
            continue
        spans.append(
            Span(
                track_id=track.track_id,
                ref=ref,
                start=ref.start,
                end=end,
                first_ts=probe.first_ts + ref.skip,
                readable=readable,
                error=error,
            )
        )
    return spans


def presence_intervals(spans: list[Span]) -> list[tuple[float, float]]:
    """Union of spans with small gaps bridged, in timeline order."""
    out: list[tuple[float, float]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1][1] + PRESENCE_BRIDGE_S:
            out[-1] = (out[-1][0], max(out[-1][1], span.end))
        else:
            out.append((span.start, span.end))
    return out


def interval_index(intervals: list[tuple[float, float]], t: float) -> int | None:
    """Index of the presence interval containing ``t``, if any."""
    for i, (a, b) in enumerate(intervals):
        if a - EPS <= t < b - EPS:
            return i
    return None
