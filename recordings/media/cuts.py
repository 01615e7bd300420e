"""Paused spans cut out of a recording: the output timeline and where its media comes from.

A paused recording keeps one media timeline (server seconds since the first media, where ingest
places every segment); the output file shows only the recorded spans, back to back. This module
maps one onto the other and rewrites a recording's tracks onto the output timeline, so the
compositor and the audio mixer compose a paused recording exactly as an unpaused one: they never
learn that there were pauses (docs/decisions/0022).

Rules that keep audio and video in sync across every cut, however many:

* Every bound is a whole number of video frames (``fps``) on the media timeline, computed from
  the absolute instant it stands for (never by adding rounded lengths), so the shift of each
  recorded span (its media start minus its output start) is a whole number of frames: video
  frames keep their place relative to the frame grid and nothing drifts with the number of cuts.
* Video and audio of a segment move by the same shift: a segment is cut once, into
  ``SegmentRef``s with a ``skip`` into the file, and both the picture and the sound read those.
  The audio is cut in PCM at the same instant as the picture (a frame boundary is a whole number
  of samples at 48 kHz and 30 fps), before encoding, so the AAC windows of decision 0006 still
  tile the output timeline on the AAC grid with their pre- and post-roll.
* Media that falls inside a pause is dropped: a segment wholly inside one is not used at all.

Pure Python; no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .timeline import EPS, SegmentRef, TrackInput, probe_segment


@dataclass(frozen=True)
class Kept:
    """One recorded span: media frames ``[start, end)`` shown from output frame ``out``."""

    start: int
    end: int | None  # None: still open (the recording runs, not paused)
    out: int


@dataclass(frozen=True)
class CutTimeline:
    """The recorded spans of one recording on its media timeline, in frames of ``fps``."""

    kept: tuple[Kept, ...]
    fps: int

    @classmethod
    def build(cls, *, pauses: Sequence[tuple[int, int | None]], end: int | None, fps: int) -> CutTimeline:
        """From the pauses (media frames; an open pause has no end) and the media end (None: running)."""
        spans: list[tuple[int, int | None]] = []
        cursor = 0
        for a, b in sorted((max(a, 0), b) for a, b in pauses):
            if end is not None and a >= end:
                break
            if a > cursor:
                spans.append((cursor, a))
            if b is None:  # paused now (or stopped while paused): nothing after it is kept
                cursor = -1
                break
            cursor = max(cursor, b)
        if cursor >= 0 and (end is None or cursor < end):
            spans.append((cursor, end))
        kept: list[Kept] = []
        out = 0
        for a, b in spans:
            kept.append(Kept(a, b, out))
            if b is not None:
                out += b - a
        return cls(tuple(kept), fps)

    def duration_frames(self) -> int:
        """Output length in frames (a closed timeline only)."""
        return sum((k.end - k.start) for k in self.kept if k.end is not None)

    def to_output(self, seconds: float) -> float:
        """Output seconds of media instant ``seconds``; inside a pause, the cut where it was."""
        frame = seconds * self.fps
        out = 0.0
        for k in self.kept:
            if frame < k.start:
                return out / self.fps
            if k.end is None or frame < k.end:
                return (k.out + frame - k.start) / self.fps
            out = float(k.out + k.end - k.start)
        return out / self.fps

    def cut_track(self, track: TrackInput) -> TrackInput:
        """The track on the output timeline: each segment shifted, split at cuts, dropped in pauses."""
        refs: list[SegmentRef] = []
        ordered = sorted(track.segments, key=lambda s: (s.start, s.path))
        for i, ref in enumerate(ordered):
            length = ref.duration
            if length is None:
                # Up to the next segment at most (the newer upload wins, as in timeline.track_spans).
                probe = probe_segment(ref.path)
                length = probe.duration if probe.duration is not None else 0.0
                if i + 1 < len(ordered):
                    length = min(length, max(ordered[i + 1].start - ref.start, 0.0)) or length
            seg_a, seg_b = ref.start, ref.start + max(length, 0.0)
            for k in self.kept:
                a = k.start / self.fps
                b = math.inf if k.end is None else k.end / self.fps
                lo, hi = max(seg_a, a), min(seg_b, b)
                inside = seg_a >= a - EPS and seg_b <= b + EPS
                if hi <= lo + EPS and not (inside and ref.duration is None):
                    continue
                # The shift is a whole number of frames: one subtraction from the media instant.
                shift = (k.start - k.out) / self.fps
                if inside:
                    refs.append(
                        SegmentRef(path=ref.path, start=ref.start - shift, duration=ref.duration, skip=ref.skip)
                    )
                else:
                    refs.append(
                        SegmentRef(path=ref.path, start=lo - shift, duration=hi - lo, skip=ref.skip + lo - seg_a)
                    )
        return TrackInput(track_id=track.track_id, kind=track.kind, segments=tuple(refs))

    def cut_tracks(self, tracks: Sequence[TrackInput]) -> list[TrackInput]:
        cut = [self.cut_track(track) for track in tracks]
        return [track for track in cut if track.segments]
