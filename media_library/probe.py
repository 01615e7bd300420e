"""Reading facts and a poster frame out of media files with PyAV (never an ffmpeg binary).

Pure functions over a local path: no Django, so workers and tests call them directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import av

logger = logging.getLogger(__name__)

POSTER_MAX_WIDTH = 640


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool


def probe(path: str) -> MediaInfo | None:
    """Duration and streams of a media file, or None if PyAV cannot read it."""
    try:
        with av.open(path) as container:
            video = container.streams.video[0] if container.streams.video else None
            duration = None
            if container.duration is not None:
                duration = container.duration / av.time_base
            elif video is not None and video.duration is not None and video.time_base is not None:
                duration = float(video.duration * video.time_base)
            return MediaInfo(
                duration=round(duration, 3) if duration is not None else None,
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
                has_video=video is not None,
                has_audio=bool(container.streams.audio),
            )
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None


def _even(value: int) -> int:
    return max(2, value - value % 2)


def poster_jpeg(path: str, *, max_width: int = POSTER_MAX_WIDTH) -> bytes | None:
    """One frame, scaled to at most `max_width`, as JPEG bytes; None if the file has no decodable video.

    Takes a frame a little way in (a third of the duration, at most 2 s), because the first
    frame of a recording is often black while cameras warm up.
    """
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = container.duration / av.time_base if container.duration else 0.0
            target = min(duration / 3, 2.0) if duration else 0.0
            if target > 0 and stream.time_base is not None:
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is None or frame.time >= target:
                    break
            if chosen is None:
                return None
            width = chosen.width
            height = chosen.height
            if width > max_width:
                height = round(height * max_width / width)
                width = max_width
            width, height = _even(width), _even(height)
            picture = chosen.reformat(width=width, height=height, format="yuvj420p")
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width = width
            encoder.height = height
            encoder.pix_fmt = "yuvj420p"
            encoder.time_base = Fraction(1, 25)
            # One frame at this rate gets ~160 KB of budget: a crisp poster, not a blocky one.
            encoder.bit_rate = 4_000_000
            packets = encoder.encode(picture) + encoder.encode(None)
            data = b"".join(bytes(packet) for packet in packets)
            return data or None
    except (av.error.FFmpegError, OSError, ValueError, StopIteration):
        logger.warning("no poster could be made from %s", path, exc_info=True)
        return None
