"""Test material for presenting (issue 11): small real PDFs, images and videos in a room's Media and Files."""

from __future__ import annotations

import zlib
from pathlib import Path

from loadtest.pdf import pdf_document

# Each page of a test PDF is filled with one colour, with a black bar whose length is the page number,
# so a screenshot or a decoded PNG tells the pages apart by colour and by the bar.
PAGE_COLORS: list[tuple[int, int, int]] = [(220, 40, 40), (40, 160, 60), (40, 80, 220), (230, 180, 30)]


def make_pdf(pages: int = 3, *, width: int = 640, height: int = 360) -> bytes:
    """A valid PDF of `pages` pages (a 16:9 slide each): a colour and a bar as long as the page number."""
    contents = []
    for i in range(pages):
        r, g, b = (c / 255 for c in PAGE_COLORS[i % len(PAGE_COLORS)])
        bar = (i + 1) * width // 8
        contents.append(f"{r:.3f} {g:.3f} {b:.3f} rg 0 0 {width} {height} re f 0 0 0 rg 20 20 {bar} 30 re f".encode())
    return pdf_document(contents, width=width, height=height)


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB rows) of a PNG as media_library.presenting writes it (8-bit RGB, filter 0)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8:10] == b"\x08\x02"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    assert len(raw) == stride * height and all(raw[r * stride] == 0 for r in range(height))
    return width, height, b"".join(raw[r * stride + 1 : (r + 1) * stride] for r in range(height))


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    width, _, rgb = decode_png(png)
    i = (y * width + x) * 3
    return rgb[i], rgb[i + 1], rgb[i + 2]


def close_to(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def room_file(room, user, *, name: str, data: bytes, kind: str, content_type: str, duration: float | None = None):
    """An uploaded file of `room`'s Media and Files, stored in default_storage as an upload is."""
    from django.core.files.base import ContentFile

    from media_library.models import MediaEntry

    entry = MediaEntry(
        title=Path(name).stem,
        owner=user,
        creator=user,
        kind=kind,
        status=MediaEntry.Status.READY,
        content_type=content_type,
        size=len(data),
        room=room,
        duration=duration,
    )
    entry.file.save(name, ContentFile(data), save=False)
    entry.save()
    return entry
