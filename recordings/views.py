"""Segment ingest: the only door through which media enters (DESIGN.md "The flow of one recording")."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from meetings import permissions
from meetings import services as meeting_services
from recordings import services
from recordings.models import Recording, Segment, Track
from recordings.spool import LocalSpool, get_spool

logger = logging.getLogger(__name__)

WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML header: every WebM file starts with it
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SEQ = 1_000_000
CHUNK = 1024 * 1024


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _float_header(request: HttpRequest, name: str) -> float | None:
    raw = request.headers.get(name)
    if raw in (None, ""):
        return None
    value = float(raw)  # ValueError is turned into a 400 by the caller
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(name)
    return value


@dataclass(frozen=True)
class _Context:
    recording: Recording
    previous: Segment | None
    clock_offset: float | None


@database_sync_to_async
def _prepare(user: Any, room_id: int, rec_uid: str, client_id: str, seq: int) -> _Context | None:
    """Everything ingest needs from the database, in one trip (each trip queues on Daphne's DB thread).

    None if this person may not send media to this recording (not found = not allowed).
    """
    recording = Recording.objects.select_related("room", "room__channel").filter(uid=rec_uid, room_id=room_id).first()
    if recording is None or permissions.session_role(user, recording.room) is None:
        return None
    previous = Segment.objects.filter(track__recording=recording, track__client_id=client_id, seq=seq).first()
    offset = meeting_services.clock_offset_for(session_id=recording.session_id, user_id=user.pk)
    return _Context(recording=recording, previous=previous, clock_offset=offset)


@database_sync_to_async
def _record(**kwargs: Any) -> services.IngestResult:
    return services.record_segment(**kwargs)


def _receive(spool: LocalSpool, request: HttpRequest, directory: str, limit: int,
             keep: bool) -> tuple[int, str, str | None] | str:
    """Hash the body and, if `keep`, store it durably (fsync) under a name that carries its hash.

    Returns (size, sha256, relpath) or an error code. The hash in the name means a racing retry
    with other bytes can never overwrite the copy that a Segment row points at.
    """
    temp = spool.temp_file(f"{directory}.incoming") if keep else None
    digest = hashlib.sha256()
    size = 0
    try:
        chunk = request.read(CHUNK)
        if not chunk.startswith(WEBM_MAGIC):
            return "not-webm"
        while chunk:
            size += len(chunk)
            if size > limit:
                return "too-large"
            digest.update(chunk)
            if temp is not None:
                temp.write(chunk)
            chunk = request.read(CHUNK)
        sha256 = digest.hexdigest()
        relpath = None
        if temp is not None:
            relpath = f"{directory}-{sha256[:16]}.webm"
            spool.commit(temp, relpath)
            temp = None
        return size, sha256, relpath
    finally:
        if temp is not None:
            spool.discard(temp)


@require_http_methods(["PUT", "POST"])
async def ingest_segment(request: HttpRequest, room_id: int, rec_uid: str, client_id: str, seq: int) -> JsonResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return _error(403, "Sign in to send media.")
    if not CLIENT_ID_RE.match(client_id) or not 0 <= seq < MAX_SEQ:
        return _error(400, "Bad track id or segment number.")
    kind = request.headers.get("X-Track-Kind", "camera")
    if kind not in Track.Kind.values:
        return _error(400, "X-Track-Kind must be camera or screen.")
    try:
        client_start_ms = _float_header(request, "X-Segment-Start")
        duration_ms = _float_header(request, "X-Segment-Duration")
    except ValueError:
        return _error(400, "X-Segment-Start and X-Segment-Duration must be numbers (milliseconds).")
    duration = duration_ms / 1000.0 if duration_ms is not None and 0 < duration_ms < 3_600_000 else None
    final = request.headers.get("X-Final", "") in ("1", "true")
    limit = settings.SEGMENT_MAX_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "Bad Content-Length.")
    if declared > limit:
        return _error(413, f"A segment may be at most {limit} bytes.")
    if declared == 0:
        return _error(400, "The segment is empty.")

    context = await _prepare(user, room_id, rec_uid, client_id, seq)
    if context is None:
        return _error(404, "No such recording in this room.")
    recording, previous = context.recording, context.previous
    if not services.accepts_segments(recording):
        return _error(409, "This recording is no longer accepting media.")

    spool = get_spool()
    received = await sync_to_async(_receive, thread_sensitive=False)(
        spool, request, f"{recording.uid}/{client_id}/{seq:06d}", limit, previous is None)
    if received == "not-webm":
        return _error(415, "Segments must be WebM (EBML header missing).")
    if received == "too-large":
        return _error(413, f"A segment may be at most {limit} bytes.")
    size, sha256, relpath = received
    if previous is not None:  # a retry: the first copy is durable and recorded; never replace it
        if previous.sha256 != sha256:
            return _error(409, "A different segment with that number was already stored.")
        return JsonResponse({"ok": True, "seq": seq, "start": previous.start, "duplicate": True}, status=200)
    try:
        result = await _record(recording=recording, user=user, client_id=client_id, kind=kind, seq=seq,
                               relpath=relpath, size=size, sha256=sha256, client_start_ms=client_start_ms,
                               duration=duration, final=final, clock_offset=context.clock_offset)
    except services.RecordingError as exc:
        return _error(409, str(exc))
    return JsonResponse({"ok": True, "seq": seq, "start": result.segment.start, "duplicate": not result.created},
                        status=201 if result.created else 200)
