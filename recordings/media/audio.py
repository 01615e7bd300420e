"""Mix every participant's audio into AAC, one window of the timeline at a time.

Encoded progressively, like the video: each window's audio is mixed and
AAC-encoded shortly after the window closes, so Stop leaves only the last
windows to do and the wait after Stop does not grow with the length of the
meeting. The windows join into one seamless AAC stream by remux alone
(``assemble.py``), because of three rules (docs/decisions/0006):

* Window bounds are on the AAC frame grid (multiples of 1024 samples on the
  timeline), and every window's encoder counts frames from that same grid.
* Each encoder starts ``PREROLL_FRAMES`` (~2 s) before its window and runs
  ``POSTROLL_FRAMES`` past it, and only the packets whose decoded samples fall
  inside the window are kept. AAC is an overlapped transform: the samples
  around a join come from the last kept frame of one encoder and the first of
  the next, and they cancel each other's aliasing only if both encoders made
  the same choices there. Measured on a tone with PyAV's AAC encoder, RMS
  difference around a join from one encode of the whole timeline: -25 dBFS
  with no pre-roll and -36 dBFS with one frame (audible clicks), -56 dBFS
  with two seconds, which is the encoder's own noise (the windows differ from
  a single pass by -59 dBFS away from the joins; tests/media/
  test_audio_windows.py). Two seconds also lets the limiter below reach the
  gain a single pass would have (it recovers at 20 dB/s).
* Encoding is deterministic, so a window encoded again (a retry, a late
  segment) gives the same packets.

Other decisions:

* Output is stereo 48 kHz AAC-LC at 128 kb/s in an MP4 audio file (.m4a) per
  window, packets stored with timestamps relative to the window start; the
  first window keeps the encoder's priming packet, recorded in an edit list.
  Stereo because a shared tab can carry stereo sound; mono microphones are
  upmixed by libswresample (both channels at -3 dB).
* Each segment's audio is placed by its timestamps on the timeline, sample
  accurate: contiguous packets are laid end to end; when a timestamp jumps by
  more than ``RESYNC_S`` (a hole or an overlap) the stream is resynchronised
  to it. Anything outside the segment's span is dropped; holes are silence.
* Participants are summed at unity gain (normalising by the number of tracks
  would make one speaker quieter as others join), then a simple peak limiter
  with a -1 dBFS ceiling keeps the sum from clipping: per ~10.7 ms block the
  gain drops at once to what the block's peak allows (looking one block
  ahead, so the ramp never overshoots) and recovers at 20 dB/s. A final hard
  clip at full scale is only a safety net.
* Memory stays bounded: audio is decoded one segment per track at a time,
  mixed in ~2 s chunks and encoded as it goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from core import files

from .heap import tune_heap
from .stage import StageItem, stage_audio
from .timeline import SegmentProblem, Span, TrackInput, describe_error, track_spans

SAMPLE_RATE = 48_000
CHANNELS = 2
AAC_FRAME = 1024
BITRATE = 128_000
RESYNC_S = 0.03
CEILING = 10 ** (-1 / 20)  # -1 dBFS
LIMITER_BLOCK = 512
RELEASE_PER_BLOCK = 10 ** ((20 * LIMITER_BLOCK / SAMPLE_RATE) / 20)  # 20 dB/s
CHUNK = AAC_FRAME * 94  # ~2 s, a whole number of AAC frames and limiter blocks
PREROLL_FRAMES = 94  # ~2 s before a window: encoder and limiter state as in one pass (see above)
POSTROLL_FRAMES = 4  # the last kept frame overlaps the next 1,024 samples; the encoder looks ahead


def on_audio_grid(seconds: float) -> int:
    """Timeline sample of the AAC frame boundary nearest ``seconds``: where audio windows join."""
    return round(seconds * SAMPLE_RATE / AAC_FRAME) * AAC_FRAME


@dataclass
class AudioReport:
    duration: float
    out_path: str
    start_sample: int = 0  # timeline sample of the first kept packet's output (0 for the first window)
    samples: int = 0
    problems: list[SegmentProblem] = field(default_factory=list)
    limited_blocks: int = 0  # blocks where the limiter reduced the gain


class _Pcm:
    """Audio as (timeline sample position, float32 [2, n]) pieces in time order, added into the mix."""

    def __init__(self, pieces: Iterator[tuple[int, np.ndarray]]) -> None:
        self._gen = pieces
        self._pending: tuple[int, np.ndarray] | None = None
        self._exhausted = False

    def add_into(self, buf: np.ndarray, buf_start: int) -> None:
        """Add the samples that fall in ``buf`` (starting at ``buf_start``)."""
        buf_end = buf_start + buf.shape[1]
        while not self._exhausted:
            if self._pending is None:
                self._pending = next(self._gen, None)
                if self._pending is None:
                    self._exhausted = True
                    return
            pos, data = self._pending
            n = data.shape[1]
            if pos + n <= buf_start:
                self._pending = None  # late piece (overlap after a resync): already past
                continue
            if pos >= buf_end:
                return
            a = max(pos, buf_start)
            b = min(pos + n, buf_end)
            buf[:, a - buf_start : b - buf_start] += data[:, a - pos : b - pos]
            if pos + n > buf_end:
                self._pending = (buf_end, data[:, buf_end - pos :])
                return
            self._pending = None


class _TrackPcm(_Pcm):
    """A track's audio, segment after segment."""

    def __init__(self, track: TrackInput, spans: list[Span], problems: list[SegmentProblem]) -> None:
        self.track = track
        self.spans = spans
        self.problems = problems
        super().__init__(self._pieces())

    def _problem(self, span: Span, reason: str) -> None:
        self.problems.append(SegmentProblem(self.track.track_id, span.ref.path, span.start, span.end, reason))

    def _pieces(self) -> Iterator[tuple[int, np.ndarray]]:
        for span in self.spans:
            if not span.readable:
                self._problem(span, f"unreadable segment, silence: {span.error}")
                continue
            pieces = self._span_pieces(span)
            while True:
                try:
                    piece = next(pieces)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - any failure costs only this segment
                    self._problem(span, f"failed, silence after: {describe_error(exc)}")
                    break
                yield piece

    def _span_pieces(self, span: Span) -> Iterator[tuple[int, np.ndarray]]:
        span_a = round(span.start * SAMPLE_RATE)
        span_b = round(span.end * SAMPLE_RATE)
        try:
            container = av.open(span.ref.path, metadata_errors="ignore")
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._problem(span, f"cannot open, silence: {describe_error(exc)}")
            return
        try:
            if not container.streams.audio:
                return  # a share without sound, or a camera without a mic: not a problem
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            next_pos: int | None = None
            last_t = span.start

            def place(
                frames: Sequence[av.AudioFrame | np.ndarray], t: float | None
            ) -> Iterator[tuple[int, np.ndarray]]:
                nonlocal next_pos
                for out in frames:
                    if isinstance(out, np.ndarray):
                        data = out
                    else:
                        data = out.to_ndarray()
                        if data.ndim == 1 or data.shape[0] != CHANNELS:  # packed layouts come back flat
                            data = data.reshape(-1, CHANNELS).T
                        data = data.astype(np.float32, copy=False)
                    pos_ts = round(t * SAMPLE_RATE) if t is not None else next_pos
                    if next_pos is None or (pos_ts is not None and abs(pos_ts - next_pos) > RESYNC_S * SAMPLE_RATE):
                        pos = pos_ts if pos_ts is not None else span_a
                    else:
                        pos = next_pos  # contiguous: ignore ms rounding of container timestamps
                    next_pos = pos + data.shape[1]
                    t = None  # later frames of one resample call follow on
                    # Keep only the samples inside this segment's span.
                    a = max(pos, span_a)
                    b = min(pos + data.shape[1], span_b)
                    if b > a:
                        yield a, data[:, a - pos : b - pos]

            tb = float(stream.time_base or 0)
            offset = span.start - span.first_ts
            used_resampler = False
            try:
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        t = None
                        if frame.pts is not None and tb:
                            t = offset + frame.pts * tb
                            last_t = t
                        direct = _direct_stereo(frame)
                        if direct is not None:
                            yield from place([direct], t)
                        else:
                            used_resampler = True
                            yield from place(resampler.resample(frame), t)
                if used_resampler:
                    yield from place(resampler.resample(None), None)
            except (av.FFmpegError, ValueError) as exc:
                self._problem(span, f"audio decoding stopped at {last_t:.3f}s, silence after: {describe_error(exc)}")
        finally:
            container.close()


def _direct_stereo(frame: av.AudioFrame) -> np.ndarray | None:
    """Opus decodes to 48 kHz float planar: convert without a resampler call.

    Mono is spread to both channels at -3 dB, as libswresample does, so the
    fast path and the resampler path sound the same.
    """
    if frame.format.name != "fltp" or frame.sample_rate != SAMPLE_RATE:
        return None
    channels = frame.layout.nb_channels
    if channels == 2:
        return frame.to_ndarray()
    if channels == 1:
        mono = frame.to_ndarray()[0] * np.float32(np.sqrt(0.5))
        return np.vstack([mono, mono])
    return None


class _Limiter:
    """Block peak limiter with one block of look-ahead and a slow release."""

    def __init__(self) -> None:
        self.gain = 1.0
        self.limited_blocks = 0

    def process(self, buf: np.ndarray) -> None:
        n = buf.shape[1]
        blocks = -(-n // LIMITER_BLOCK)
        padded = np.zeros((CHANNELS, blocks * LIMITER_BLOCK), dtype=np.float32)
        padded[:, :n] = np.abs(buf)
        peaks = padded.reshape(CHANNELS, blocks, LIMITER_BLOCK).max(axis=(0, 2))
        targets = np.minimum(1.0, CEILING / np.maximum(peaks, 1e-9))
        if targets.min() >= 1.0 and self.gain >= 1.0:
            return  # the common case: nothing to do
        gains = np.empty(blocks + 1, dtype=np.float64)
        gains[0] = self.gain
        for k in range(blocks):
            ahead = targets[k + 1] if k + 1 < blocks else targets[k]
            gains[k + 1] = min(targets[k], ahead, gains[k] * RELEASE_PER_BLOCK, 1.0)
            if gains[k + 1] < 1.0:
                self.limited_blocks += 1
        # Each block ramps from the previous gain to its own; the start is
        # clamped to the block's limit so the ramp never overshoots it even
        # where look-ahead was unavailable (the very first block, chunk edges).
        starts = np.minimum(gains[:-1], targets)
        ramp = np.linspace(0.0, 1.0, LIMITER_BLOCK, endpoint=False)
        env = (starts[:, None] + (gains[1:, None] - starts[:, None]) * ramp).reshape(-1)[:n]
        buf *= env.astype(np.float32)
        self.gain = float(gains[-1])


def _spans_between(track: TrackInput, start: float, end: float) -> list[Span]:
    return [span for span in track_spans(track, since=start) if span.end > start and span.start < end]


def encode_audio_window(
    tracks: Sequence[TrackInput],
    *,
    start: float,
    end: float,
    out_path: str,
    bitrate: int = BITRATE,
    preroll_frames: int = PREROLL_FRAMES,
    postroll_frames: int = POSTROLL_FRAMES,
    stage: Sequence[StageItem] = (),
) -> AudioReport:
    """Mix and encode the audio of the timeline window ``[start, end)`` seconds into an AAC .m4a.

    The window is taken on the AAC frame grid (``on_audio_grid``), so the
    windows of one recording, encoded separately, join by remux into one
    stream (see the module notes). Packets are stored with timestamps relative
    to the window's first sample. Written to a temp name and renamed, like the
    video fragments, so a rerun after a crash starts clean. Bad segments
    become silence and are reported if they touch the window itself.
    """
    tune_heap()
    first = on_audio_grid(start)
    last = max(on_audio_grid(end), first + AAC_FRAME)
    mix_from = max(first - preroll_frames * AAC_FRAME, 0)
    mix_to = last + postroll_frames * AAC_FRAME
    # The first window also keeps the encoder's priming packet, which the
    # decoder needs to produce the first samples; MP4 trims it by edit list.
    keep_from = first - AAC_FRAME if first == 0 else first
    report = AudioReport(duration=(last - first) / SAMPLE_RATE, out_path=out_path, start_sample=first)
    problems: list[SegmentProblem] = []
    pcms: list[_Pcm] = [
        _TrackPcm(t, _spans_between(t, mix_from / SAMPLE_RATE, mix_to / SAMPLE_RATE), problems) for t in tracks
    ]
    # A presented video's sound where it played (stage.py), mixed like a participant's.
    pcms += [
        _Pcm(stage_audio(item, from_sample=mix_from, to_sample=mix_to, rate=SAMPLE_RATE, problems=problems))
        for item in stage
    ]
    limiter = _Limiter()
    tb = Fraction(1, SAMPLE_RATE)

    def keep(packets: Sequence[av.Packet]) -> Iterator[av.Packet]:
        for packet in packets:
            if packet.pts is not None and keep_from <= packet.pts < last:
                packet.pts -= first
                packet.dts = packet.pts
                yield packet

    with files.atomic_path(out_path) as tmp_path:
        container = av.open(tmp_path, "w", format="ipod")
        try:
            stream = container.add_stream("aac", rate=SAMPLE_RATE)
            stream.layout = "stereo"
            stream.codec_context.bit_rate = bitrate
            for chunk_start in range(mix_from, mix_to, CHUNK):
                n = min(CHUNK, mix_to - chunk_start)
                buf = np.zeros((CHANNELS, n), dtype=np.float32)
                for pcm in pcms:
                    pcm.add_into(buf, chunk_start)
                limiter.process(buf)
                np.clip(buf, -1.0, 1.0, out=buf)
                for off in range(0, n, AAC_FRAME):
                    piece = np.ascontiguousarray(buf[:, off : off + AAC_FRAME])
                    frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
                    frame.sample_rate = SAMPLE_RATE
                    frame.pts = chunk_start + off
                    frame.time_base = tb
                    container.mux(list(keep(stream.encode(frame))))
            container.mux(list(keep(stream.encode(None))))
        finally:
            container.close()
    report.samples = last - first
    report.limited_blocks = limiter.limited_blocks
    window_a, window_b = first / SAMPLE_RATE, last / SAMPLE_RATE
    touching = {p for p in problems if p.end > window_a and p.start < window_b}
    report.problems = sorted(touching, key=lambda p: (p.track_id, p.start, p.reason))
    return report


def mix_audio(
    tracks: Sequence[TrackInput],
    *,
    duration: float,
    out_path: str,
    bitrate: int = BITRATE,
) -> AudioReport:
    """All tracks' audio over ``[0, duration)`` as one window, into one AAC .m4a file."""
    return encode_audio_window(tracks, start=0.0, end=duration, out_path=out_path, bitrate=bitrate)
