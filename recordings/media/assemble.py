"""Join H.264 fragments and the AAC windows into the final MP4, by remux only.

No re-encoding: each fragment's packets are copied with their timestamps
shifted by the duration of the fragments before it. That is exact because
every fragment is constant frame rate, starts with an IDR frame, uses closed
GOPs and was encoded with identical settings (so identical SPS/PPS, which is
checked: one MP4 track can carry only one avcC). Audio and video packets are
interleaved by time as they are written, so memory stays flat however long
the recording; ``movflags=faststart`` moves the index in front of the data so
the browser can start playing before the download ends.

Audio comes as one file or as per-window files (``audio.py``): each window's
packets are stored relative to its first timeline sample and are placed back
there, and the windows must continue each other frame for frame.
"""

from __future__ import annotations

import heapq
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, overload

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from core import files

AAC_FRAME_SAMPLES = 1024  # every AAC-LC packet decodes to this many samples


class AssemblyError(Exception):
    """The inputs cannot be joined, or the result failed verification."""


@dataclass(frozen=True)
class AudioPiece:
    """One window's AAC file and the timeline sample its stored timestamp 0 stands for."""

    path: str
    start_sample: int = 0


@dataclass(frozen=True)
class MediaInfo:
    width: int
    height: int
    fps: float
    video_codec: str | None
    audio_codec: str | None
    duration: float  # container duration, seconds
    video_duration: float | None
    audio_duration: float | None
    video_frames: int
    moov_first: bool  # the index ("moov") comes before the media data ("mdat")
    top_level_atoms: tuple[str, ...]


def top_level_atoms(path: str) -> list[str]:
    """Types of the top-level MP4 boxes, in file order (reads headers only)."""
    atoms: list[str] = []
    size_total = os.path.getsize(path)
    with open(path, "rb") as fh:
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1:  # 64-bit size follows
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:  # box runs to the end of the file
                size = size_total - pos
            if size < 8:
                break  # corrupt: stop rather than loop
            atoms.append(kind.decode("latin-1"))
            pos += size
    return atoms


def probe(path: str) -> MediaInfo:
    """What a player will see: geometry, rate, codecs, durations, atom order."""
    atoms = top_level_atoms(path)
    moov_first = "moov" in atoms and "mdat" in atoms and atoms.index("moov") < atoms.index("mdat")
    with av.open(path) as container:
        v = container.streams.video[0] if container.streams.video else None
        a = container.streams.audio[0] if container.streams.audio else None
        duration = container.duration / av.time_base if container.duration else 0.0
        width = v.codec_context.width if v else 0
        height = v.codec_context.height if v else 0
        fps = float(v.average_rate) if v is not None and v.average_rate else 0.0
        vdur = float(v.duration * v.time_base) if v is not None and v.duration and v.time_base else None
        adur = float(a.duration * a.time_base) if a is not None and a.duration and a.time_base else None
        return MediaInfo(
            width=width,
            height=height,
            fps=fps,
            video_codec=v.codec_context.name if v else None,
            audio_codec=a.codec_context.name if a else None,
            duration=duration,
            video_duration=vdur,
            audio_duration=adur,
            video_frames=v.frames if v is not None else 0,
            moov_first=moov_first,
            top_level_atoms=tuple(atoms),
        )


@overload
def _same_codec_inputs(
    paths: Sequence[str], kind: Literal["video"], label: str
) -> Iterator[tuple[int, av.container.InputContainer, VideoStream]]: ...
@overload
def _same_codec_inputs(
    paths: Sequence[str], kind: Literal["audio"], label: str
) -> Iterator[tuple[int, av.container.InputContainer, AudioStream]]: ...
def _same_codec_inputs(
    paths: Sequence[str], kind: Literal["video", "audio"], label: str
) -> Iterator[tuple[int, av.container.InputContainer, VideoStream | AudioStream]]:
    """Open each input in turn with its first ``kind`` stream; all must share codec parameters.

    One MP4 track carries one sample description (avcC / esds), so inputs encoded with other
    settings cannot be joined by remux.
    """
    reference: bytes | None = None
    for index, path in enumerate(paths):
        with av.open(path) as container:
            stream = getattr(container.streams, kind)[0]
            extradata = bytes(stream.codec_context.extradata or b"")
            if reference is None:
                reference = extradata
            elif extradata != reference:
                raise AssemblyError(f"{label} {index} ({path}) was encoded with different parameters")
            yield index, container, stream


def _video_packets(fragments: Sequence[str], out_tb: Fraction) -> Iterator[tuple[Fraction, int, av.Packet]]:
    """Packets of all fragments on one continuous timeline (in ``out_tb``)."""
    offset = Fraction(0)  # seconds of video before the current fragment
    last_dts: int | None = None
    for index, container, stream in _same_codec_inputs(fragments, "video", "fragment"):
        tb = stream.time_base
        assert tb is not None
        rate = stream.average_rate or stream.guessed_rate
        frames = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            if packet.pts is None or packet.dts is None:
                raise AssemblyError(f"fragment {index} has a packet without timestamps")
            pts = int((offset + packet.pts * tb) / out_tb)
            dts = int((offset + packet.dts * tb) / out_tb)
            # Across a join the dts must keep increasing; a B-frame delay
            # mismatch of one tick is nudged, never reordered.
            if last_dts is not None and dts <= last_dts:
                dts = last_dts + 1
            if pts < dts:
                raise AssemblyError(f"fragment {index}: timestamps cannot be made monotonic")
            last_dts = dts
            packet.pts, packet.dts = pts, dts
            packet.time_base = out_tb
            frames += 1
            yield Fraction(dts) * out_tb, 0, packet
        # CFR fragments: their length is frames / rate, exactly.
        if not rate:
            raise AssemblyError(f"fragment {index} has no frame rate")
        offset += Fraction(frames) / Fraction(rate)


def _audio_packets(pieces: Sequence[AudioPiece], out_tb: Fraction) -> Iterator[tuple[Fraction, int, av.Packet]]:
    """Packets of all audio windows on one timeline; a window must start where the last one ended."""
    expected: int | None = None  # the next packet's pts in samples, once known
    for index, container, stream in _same_codec_inputs([p.path for p in pieces], "audio", "audio window"):
        piece = pieces[index]
        tb = stream.time_base
        assert tb is not None
        rate = stream.codec_context.sample_rate
        for packet in container.demux(stream):
            if packet.size == 0 or packet.dts is None or packet.pts is None:
                continue
            samples = piece.start_sample + round(packet.pts * tb * rate)
            if expected is not None and samples != expected:
                raise AssemblyError(
                    f"audio window {index} does not continue the one before (sample {samples}, expected {expected})"
                )
            expected = samples + AAC_FRAME_SAMPLES
            pts = round(Fraction(samples, rate) / out_tb)
            packet.pts = packet.dts = pts
            packet.time_base = out_tb
            yield Fraction(pts) * out_tb, 1, packet


def assemble(
    fragments: Sequence[str],
    audio: str | Sequence[AudioPiece] | None,
    out_path: str,
    *,
    expected_duration: float | None = None,
) -> MediaInfo:
    """Remux ``fragments`` (in order) and the audio into a faststart MP4, then verify it.

    ``audio`` is one AAC file covering the timeline from 0, or its windows in order.

    Raises ``AssemblyError`` when inputs do not fit together or the written
    file does not check out (codec, size, rate, moov first, duration within
    0.5 s of ``expected_duration`` or of the fragments' total).
    """
    if not fragments:
        raise AssemblyError("no fragments")
    pieces = [AudioPiece(audio)] if isinstance(audio, str) else list(audio or [])
    try:
        # The file appears under its final name only once verified (fsynced, then renamed).
        with files.atomic_path(out_path) as tmp_path:
            with av.open(fragments[0]) as first:
                vin = first.streams.video[0]
                with av.open(tmp_path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
                    vout = out.add_stream_from_template(vin)
                    aout = None
                    audio_tb = None
                    if pieces:
                        with av.open(pieces[0].path) as ain_c:
                            ain = ain_c.streams.audio[0]
                            aout = out.add_stream_from_template(ain)
                            audio_tb = ain.time_base
                    video_tb = vin.time_base
                    assert video_tb is not None
                    sources: list[Iterator[tuple[Fraction, int, av.Packet]]] = [_video_packets(fragments, video_tb)]
                    if pieces:
                        assert audio_tb is not None
                        sources.append(_audio_packets(pieces, audio_tb))
                    # Merge by decode time so the muxer never has to buffer a
                    # whole stream to interleave.
                    merged = heapq.merge(*sources, key=lambda item: (item[0], item[1]))
                    for _, kind, packet in merged:
                        packet.stream = vout if kind == 0 else aout
                        out.mux(packet)
            info = probe(tmp_path)
            _verify(info, fragments, bool(pieces), expected_duration)
        return info
    except av.FFmpegError as exc:
        raise AssemblyError(f"remux failed: {exc}") from exc


def fragments_duration(fragments: Sequence[str]) -> float:
    """Sum of the fragments' lengths (frames / rate), from their indexes."""
    total = Fraction(0)
    for path in fragments:
        with av.open(path) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            if not rate:
                raise AssemblyError(f"fragment {path} has no frame rate")
            total += Fraction(stream.frames) / Fraction(rate)
    return float(total)


def _verify(info: MediaInfo, fragments: Sequence[str], with_audio: bool, expected: float | None) -> None:
    problems = []
    if info.video_codec != "h264":
        problems.append(f"video codec {info.video_codec}")
    if with_audio and info.audio_codec != "aac":
        problems.append(f"audio codec {info.audio_codec}")
    if not info.moov_first:
        problems.append(f"moov not before mdat: {info.top_level_atoms}")
    target = expected if expected is not None else fragments_duration(fragments)
    if abs(info.duration - target) > 0.5:
        problems.append(f"duration {info.duration:.3f}s, expected {target:.3f}s")
    if problems:
        raise AssemblyError("; ".join(problems))
