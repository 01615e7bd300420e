"""Serving a local file with HTTP Range support (RFC 9110 section 14), chunk by chunk.

Django's FileResponse ignores Range, and a <video> cannot seek without 206 answers.
Under ASGI, Django turns a *synchronous* streaming body into a list before sending it
(StreamingHttpResponse.__aiter__), i.e. the whole file in memory: so under ASGI the body
is an async generator, and memory per stream stays at one chunk.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date

from media_library import conf

RANGE_RE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")
# Types a browser may show inline from our origin; anything else (HTML, SVG, scripts) is
# served as a download so an uploaded file can never run as a page of the site.
INLINE_PREFIXES = ("video/", "audio/", "image/")
INLINE_TYPES = {"application/pdf", "text/plain"}
NOT_INLINE = {"image/svg+xml"}


class RangeNotSatisfiable(Exception):
    """The Range header is malformed, names several ranges, or lies outside the file."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range asked for; None when the whole file is wanted.

    Raises RangeNotSatisfiable for anything else: answered 416, never 500.
    """
    if header is None:
        return None
    match = RANGE_RE.match(header.strip().replace(" ", ""))
    if match is None:
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "" and last == "":
        raise RangeNotSatisfiable(header)
    if first == "":  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, size - 1))


def is_inline_safe(content_type: str) -> bool:
    if content_type in NOT_INLINE:
        return False
    return content_type.startswith(INLINE_PREFIXES) or content_type in INLINE_TYPES


def _read_sync(path: str, start: int, length: int, chunk: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            data = fh.read(min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


async def _read_async(path: str, start: int, length: int, chunk: int) -> AsyncIterator[bytes]:
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(fh.seek, start)
        remaining = length
        while remaining > 0:
            data = await asyncio.to_thread(fh.read, min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data
    finally:
        fh.close()


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def file_response(
    request: HttpRequest, *, path: str, content_type: str, filename: str, as_attachment: bool
) -> HttpResponse | StreamingHttpResponse:
    """200 with the whole file, 206 with the asked range, or 416; HEAD gets the headers only."""
    stat = os.stat(path)
    size = stat.st_size
    etag = _etag(stat)
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range is not None and if_range.strip() != etag:
        wanted = None  # the file changed since the client's copy: send it whole (RFC 9110 13.1.5)
    safe_inline = is_inline_safe(content_type)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(stat.st_mtime),
        "Cache-Control": "private, max-age=0, must-revalidate",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Content-Disposition": content_disposition_header(as_attachment or not safe_inline, filename),
    }
    try:
        byte_range = parse_range(wanted, size)
    except RangeNotSatisfiable:
        response = HttpResponse(
            "Requested range not satisfiable.", status=416, content_type="text/plain; charset=utf-8"
        )
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    if byte_range is None:
        status, start, length = 200, 0, size
    else:
        status, start, length = 206, byte_range.start, byte_range.length
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    headers["Content-Length"] = str(length)
    served_type = content_type if safe_inline or as_attachment else "application/octet-stream"
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=served_type, headers=headers)
        response["Content-Length"] = str(length)
        return response
    chunk = conf.stream_chunk_bytes()
    body = (_read_async if isinstance(request, ASGIRequest) else _read_sync)(path, start, length, chunk)
    return StreamingHttpResponse(body, status=status, content_type=served_type, headers=headers)
