"""Presenting an item of a room's Media and Files (issue 11): what may be presented, and its files.

The room's socket (rooms.consumers) asks `presentable()` what an entry is before meetings puts it on the
stage; PDFs are rendered here to one PNG per page, once, into default_storage under a name derived from
the entry and its file (`pdf_pages`): in the background once uploaded (`prepare_pages`), else on their
first presentation. While a presentation runs, the room's members load its file or pages
through `presented_file()` (views `presented_file` / `presented_page`): a member of the room, present in
its session, sees the item through the room, never the entry outside it (docs/decisions/0025).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from django.core.files.storage import Storage

from media_library import conf, permissions, storage
from media_library.models import MediaEntry
from meetings import permissions as room_permissions
from meetings.models import Presence, Presentation, PresentationKind, Room, User
from meetings.permissions import RoomAction
from meetings.services import PresentationError, PresentedItem

logger = logging.getLogger(__name__)

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
PAGES_PREFIX = "presentations/pdf"
NOT_PRESENTABLE = "Only images, PDFs and videos can be presented."
NOT_FOUND = "That item is not in this room's Media and Files."
NOT_READY = "That item is not ready yet: try again when it has finished processing."
BROKEN_PDF = "This PDF could not be opened: it may be damaged or protected by a password."
EMPTY_PDF = "This PDF has no pages."


def presented_kind(entry: MediaEntry) -> str | None:
    """What an entry is presented as: an image, a PDF or a video; None if it cannot be presented."""
    if entry.kind == MediaEntry.Kind.IMAGE:
        return PresentationKind.IMAGE
    if entry.kind == MediaEntry.Kind.VIDEO:
        return PresentationKind.VIDEO
    if entry.kind == MediaEntry.Kind.DOCUMENT and (
        entry.content_type in PDF_TYPES or (entry.file.name or "").lower().endswith(".pdf")
    ):
        return PresentationKind.PDF
    return None


def presentable(*, user: User, room: Room, entry_id: int) -> PresentedItem:
    """The entry as meetings presents it, if `user` may present it in `room` (else PresentationError).

    A PDF's pages are rendered on its first presentation (then reused): this can take a few seconds, so the
    room's socket runs it off the database thread.
    """
    entry = permissions.room_entries(user, room).filter(pk=entry_id).first()
    if entry is None or not permissions.can_present(user, entry, room):
        raise PresentationError(NOT_FOUND)
    kind = presented_kind(entry)
    if kind is None:
        raise PresentationError(NOT_PRESENTABLE)
    if entry.status != MediaEntry.Status.READY or not entry.file.name:
        raise PresentationError(NOT_READY)
    if kind == PresentationKind.PDF:
        return PresentedItem(kind=kind, entry_id=entry.pk, title=entry.title, pages=pdf_pages(entry))
    return PresentedItem(kind=kind, entry_id=entry.pk, title=entry.title, source=entry.file.name)


# --- PDF pages: rendered once, kept in storage -----------------------------------------------------


def pages_dir(entry: MediaEntry) -> str:
    """Where an entry's rendered pages live: its id and a digest of its file's name and size, so a
    different file (or a changed cap) renders afresh and nothing else can collide with it."""
    width, height = conf.present_page_box()
    key = f"{entry.file.name}\0{entry.size}\0{conf.present_pdf_max_pages()}\0{width}x{height}"
    return f"{PAGES_PREFIX}/{entry.pk}/{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def prepare_pages(*, entry_id: int) -> int:
    """Render an uploaded PDF's pages ahead of its first presentation, so presenting it is at once
    (a 30-page deck took 1.7-4.5 s to render on the benchmark machine); how many pages are stored.

    0 for an entry that is gone, binned, not ready or not a PDF, and for a PDF that cannot be
    rendered: presenting it later answers with the same clear error (BROKEN_PDF, EMPTY_PDF). A
    presentation that starts while this runs renders too; both write the same pages.
    """
    entry = MediaEntry.objects.filter(pk=entry_id, status=MediaEntry.Status.READY).first()
    if entry is None or not entry.file.name or presented_kind(entry) != PresentationKind.PDF:
        return 0
    try:
        return len(pdf_pages(entry))
    except PresentationError as exc:
        logger.info("entry %s: PDF pages not rendered ahead (%s)", entry.pk, exc)
        return 0


def pdf_pages(entry: MediaEntry) -> list[str]:
    """The storage names of the entry's pages as PNGs, rendering them if this is their first time."""
    backend = storage.get_storage()
    folder = pages_dir(entry)
    manifest = f"{folder}/pages.json"
    try:
        if backend.exists(manifest):
            with backend.open(manifest, "rb") as fh:
                names = json.loads(fh.read())
            if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                return names
    except (OSError, ValueError):
        logger.warning("entry %s: unreadable page manifest %s; rendering again", entry.pk, manifest)
    with _local_copy(entry.file.storage, entry.file.name or "") as path:
        names = render_pdf(path, folder=folder, backend=backend)
    # Written last: a manifest means every page it names is stored.
    storage.put_bytes(storage=backend, name=manifest, data=json.dumps(names).encode(), content_type="application/json")
    return names


@dataclass
class _local_copy:  # noqa: N801 (a context manager used like a function)
    """The stored file as a path on this machine: itself on a file system, a temporary copy from S3."""

    backend: Storage
    name: str
    tmp: str | None = None

    def __enter__(self) -> str:
        path = storage.local_path(self.backend, self.name)
        if path is not None:
            return path
        fd, self.tmp = tempfile.mkstemp(prefix="liverec-present-", suffix=".pdf")
        with os.fdopen(fd, "wb") as out, self.backend.open(self.name, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        return self.tmp

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)


def render_pdf(path: str, *, folder: str, backend: Storage) -> list[str]:
    """Render each page (at most the cap) to a PNG that fits the page box; store them under `folder`."""
    width, height = conf.present_page_box()
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        logger.info("could not open a presented PDF (%s): %s", path, exc)
        raise PresentationError(BROKEN_PDF) from None
    names = []
    try:
        count = min(len(pdf), conf.present_pdf_max_pages())
        if count == 0:
            raise PresentationError(EMPTY_PDF)
        for index in range(count):
            name = f"{folder}/page-{index + 1:04d}.png"
            try:
                png = render_page(pdf[index], width=width, height=height)
            except pdfium.PdfiumError as exc:
                logger.info("could not render page %d of %s: %s", index + 1, path, exc)
                raise PresentationError(BROKEN_PDF) from None
            storage.put_bytes(storage=backend, name=name, data=png, content_type="image/png")
            names.append(name)
    finally:
        pdf.close()
    return names


def render_page(page: pdfium.PdfPage, *, width: int, height: int) -> bytes:
    """One page as a PNG as large as fits `width` x `height` (its proportions kept), on white."""
    page_w, page_h = page.get_size()  # points
    if page_w <= 0 or page_h <= 0:
        raise pdfium.PdfiumError("page without size")
    scale = min(width / page_w, height / page_h)
    bitmap = page.render(scale=scale, rev_byteorder=True, fill_color=(255, 255, 255, 255))
    pixels = bitmap.to_numpy()
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return encode_png(np.ascontiguousarray(pixels[:height, :width]))


def encode_png(rgb: np.ndarray) -> bytes:
    """An RGB (h, w, 3) uint8 array as a PNG (no Pillow needed: one IDAT, filter 0 on every row)."""
    height, width = rgb.shape[:2]
    rows = np.zeros((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 1:] = rgb.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 3))
        + chunk(b"IEND", b"")
    )


# --- The files of a running presentation, for the room's members ----------------------------------


@dataclass(frozen=True)
class PresentedFile:
    name: str  # in default_storage
    content_type: str


def presented_file(*, user: User, room_id: int, presentation_id: int, page: int | None) -> PresentedFile | None:
    """The file a room member may load for the running presentation (its page `page`, for a PDF), or None.

    Only while the presentation runs, only for someone whom the room policy lets in and who is in the
    session now: the item is seen through the room, never outside it.
    """
    presentation = (
        Presentation.objects.filter(pk=presentation_id, session__room_id=room_id, ended_at__isnull=True)
        .exclude(session__state="ended")
        .select_related("session__room")
        .first()
    )
    if presentation is None:
        return None
    room = presentation.session.room
    if not room_permissions.can(user, RoomAction.JOIN, room):
        return None
    if not Presence.objects.filter(session_id=presentation.session_id, user_id=user.pk).exists():
        return None
    if presentation.kind == PresentationKind.PDF:
        if page is None or not 1 <= page <= len(presentation.pages):
            return None
        return PresentedFile(name=presentation.pages[page - 1], content_type="image/png")
    if page is not None or not presentation.source:
        return None
    entry = MediaEntry.objects.filter(pk=presentation.entry_id).only("content_type").first()
    content_type = entry.content_type if entry is not None and entry.content_type else "application/octet-stream"
    return PresentedFile(name=presentation.source, content_type=content_type)
