"""Segment ingest: the only door through which media enters (DESIGN.md "The flow of one recording").

Served at the ASGI layer, beside Django rather than through it (docs/decisions/0007). A
Django async view pays, per request, two hops to the process's one thread-sensitive
thread for every classic middleware (sessions, CSRF, auth, messages...) plus Django's own
re-buffering of the body; under a 100-person meeting that one thread, which also carries
every websocket's database work, became the queue that set the acknowledgement time. Here
a segment costs two trips to the database thread (authorise, then record) and nothing else.

What it keeps from the Django stack, on purpose:

* **Authentication** by the Django session cookie, resolved with ``django.contrib.auth``'s
  own ``get_user`` (session hash checked as for any page), inside the first trip.
* **Authorisation** through ``meetings.permissions`` (the one policy): a segment is
  accepted only from a participant of that room, for that room's recording, while it takes
  media. Not found and not allowed look the same (404).
* **Cross-site protection**: the request must carry an ``Origin`` equal to its own origin
  (or one of ``CSRF_TRUSTED_ORIGINS``), the check Django's CSRF middleware makes first, and
  the ``X-CSRFToken`` header, a custom header that no cross-site form can send and no
  cross-site script can send without a CORS preflight we never answer. The session cookie
  is also ``SameSite=Lax``, so a cross-site PUT carries no session at all.

Durability: the body is hashed and written to a temp file in the spool as it arrives, then
fsynced and renamed (file and directory entry) under a name that carries its hash, and only
then recorded and acknowledged. A retry of the same bytes gets 200 with the first copy's
answer; other bytes under a stored sequence number get 409; nothing is ever overwritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import Any, BinaryIO

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from meetings import permissions
from meetings.permissions import RoomAction
from recordings import services
from recordings.models import Recording, Segment, Track
from recordings.spool import LocalSpool, get_spool

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
# A Mapping, as Django's stubs type the send callable its ASGI handler is given (so a Django app is an ASGIApp).
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH_RE = re.compile(
    r"^/rooms/(?P<room_id>[0-9]{1,18})/recordings/(?P<rec_uid>[0-9a-fA-F-]{32,36})"
    r"/tracks/(?P<client_id>[^/]+)/segments/(?P<seq>[0-9]{1,9})/?$"
)
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML header: every WebM file starts with it
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SEQ = 1_000_000


class Refusal(Exception):
    """A request we answer with a 4xx and a message; nothing has been kept."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Upload:
    """What the request line and headers say, checked before anything touches the database."""

    room_id: int
    rec_uid: str
    client_id: str
    seq: int
    kind: str
    client_start_ms: float | None
    duration: float | None
    final: bool
    length: int
    session_key: str | None


@dataclass(frozen=True)
class Context:
    """What the first trip to the database found."""

    user: Any
    recording: Recording
    previous: Segment | None


# --- parsing (no I/O) -------------------------------------------------------------------------


def _float_header(headers: dict[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise Refusal(400, "X-Segment-Start and X-Segment-Duration must be numbers (milliseconds).")
    return value


def _request_scheme(scope: Scope, headers: dict[str, str]) -> str:
    """As Django's `request.scheme`: behind TLS-terminating proxies, SECURE_PROXY_SSL_HEADER says https."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, value = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower()
        if headers.get(header, "").split(",")[0].strip() == value:
            return "https"
    return "https" if scope.get("scheme") == "https" else "http"


def _origin_allowed(scope: Scope, headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if not origin or origin == "null":
        return False
    own = f"{_request_scheme(scope, headers)}://{headers.get('host', '')}"
    return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS


def parse_upload(scope: Scope, match: re.Match[str]) -> Upload:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    if not _origin_allowed(scope, headers) or not headers.get("x-csrftoken"):
        raise Refusal(403, "Upload refused: send it from the room page (origin and CSRF header checked).")
    client_id, seq = match["client_id"], int(match["seq"])
    if not CLIENT_ID_RE.match(client_id) or not 0 <= seq < MAX_SEQ:
        raise Refusal(400, "Bad track id or segment number.")
    kind = headers.get("x-track-kind", "camera")
    if kind not in Track.Kind.values:
        raise Refusal(400, "X-Track-Kind must be camera or screen.")
    raw_length = headers.get("content-length")
    if raw_length is None:
        raise Refusal(411, "Send the segment with a Content-Length.")
    try:
        length = int(raw_length)
    except ValueError:
        raise Refusal(400, "Bad Content-Length.") from None
    limit = settings.SEGMENT_MAX_BYTES
    if length > limit:
        raise Refusal(413, f"A segment may be at most {limit} bytes.")
    if length <= 0:
        raise Refusal(400, "The segment is empty.")
    client_start_ms = _float_header(headers, "x-segment-start")
    duration_ms = _float_header(headers, "x-segment-duration")
    cookies = parse_cookie(headers.get("cookie", ""))
    return Upload(
        room_id=int(match["room_id"]),
        rec_uid=match["rec_uid"],
        client_id=client_id,
        seq=seq,
        kind=kind,
        client_start_ms=client_start_ms,
        duration=duration_ms / 1000.0 if duration_ms is not None and 0 < duration_ms < 3_600_000 else None,
        final=headers.get("x-final", "") in ("1", "true"),
        length=length,
        session_key=cookies.get(settings.SESSION_COOKIE_NAME),
    )


# --- the two trips to the database ------------------------------------------------------------


def _user_for(session_key: str | None) -> Any:
    if not session_key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # get_user reads nothing of the request but `.session`; Django's stubs ask for a whole HttpRequest.
    return auth.get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]


@database_sync_to_async
def authorise(upload: Upload) -> Context:
    """Who is sending, may they send to this recording, and is this sequence number stored already."""
    user = _user_for(upload.session_key)
    if not user.is_authenticated:
        raise Refusal(403, "Sign in to send media.")
    recording = (
        Recording.objects.select_related("room", "room__channel")
        .filter(uid=upload.rec_uid, room_id=upload.room_id)
        .first()
    )
    if recording is None or not permissions.can(user, RoomAction.SEND_MEDIA, recording.room):
        raise Refusal(404, "No such recording in this room.")
    if not services.accepts_segments(recording):
        raise Refusal(409, "This recording is no longer accepting media.")
    previous = Segment.objects.filter(
        track__recording=recording, track__client_id=upload.client_id, seq=upload.seq
    ).first()
    return Context(user=user, recording=recording, previous=previous)


@database_sync_to_async
def record(upload: Upload, context: Context, relpath: str, size: int, sha256: str) -> services.IngestResult:
    return services.record_segment(
        recording=context.recording,
        user=context.user,
        client_id=upload.client_id,
        kind=upload.kind,
        seq=upload.seq,
        relpath=relpath,
        size=size,
        sha256=sha256,
        client_start_ms=upload.client_start_ms,
        duration=upload.duration,
        final=upload.final,
    )


# --- the body ---------------------------------------------------------------------------------


class _Incoming:
    """The body on its way into the spool: hashed and written piece by piece, off the event loop."""

    def __init__(self, spool: LocalSpool, directory: str, keep: bool) -> None:
        self.spool = spool
        self.directory = directory
        self.temp: BinaryIO | None = spool.temp_file(f"{directory}.incoming") if keep else None
        self.digest = hashlib.sha256()
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.digest.update(piece)  # releases the GIL for large pieces
        if self.temp is not None:
            self.temp.write(piece)

    def commit(self) -> str | None:
        if self.temp is None:
            return None
        relpath = f"{self.directory}-{self.digest.hexdigest()[:16]}.webm"
        self.spool.commit(self.temp, relpath)
        self.temp = None
        return relpath

    def discard(self) -> None:
        if self.temp is not None:
            self.spool.discard(self.temp)
            self.temp = None


async def receive_body(receive: Receive, incoming: _Incoming, limit: int) -> bool:
    """Feed the request body to `incoming`; False if the client went away first."""
    first = True
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        piece = message.get("body", b"")
        if first and piece:
            if not piece.startswith(WEBM_MAGIC):
                raise Refusal(415, "Segments must be WebM (EBML header missing).")
            first = False
        incoming.size += len(piece)
        if incoming.size > limit:
            raise Refusal(413, f"A segment may be at most {limit} bytes.")
        if piece:
            await asyncio.to_thread(incoming.add, piece)
        if not message.get("more_body", False):
            if incoming.size == 0:
                raise Refusal(400, "The segment is empty.")
            return True


# --- the endpoint -----------------------------------------------------------------------------


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def ingest(scope: Scope, receive: Receive, send: Send, match: re.Match[str]) -> None:
    if scope.get("method") not in ("PUT", "POST"):
        return await _respond(send, 405, {"ok": False, "error": "Send segments with PUT."})
    incoming: _Incoming | None = None
    try:
        upload = parse_upload(scope, match)
        context = await authorise(upload)
        incoming = _Incoming(
            get_spool(), f"{context.recording.uid}/{upload.client_id}/{upload.seq:06d}", keep=context.previous is None
        )
        if not await receive_body(receive, incoming, settings.SEGMENT_MAX_BYTES):
            return
        sha256 = incoming.digest.hexdigest()
        previous = context.previous
        if previous is not None:  # a retry: the first copy is durable and recorded; never replace it
            if previous.sha256 != sha256:
                raise Refusal(409, "A different segment with that number was already stored.")
            return await _respond(
                send, 200, {"ok": True, "seq": upload.seq, "start": previous.start, "duplicate": True}
            )
        relpath = await asyncio.to_thread(incoming.commit)
        assert relpath is not None
        try:
            result = await record(upload, context, relpath, incoming.size, sha256)
        except services.RecordingError as exc:
            raise Refusal(409, str(exc)) from exc
        await _respond(
            send,
            201 if result.created else 200,
            {"ok": True, "seq": upload.seq, "start": result.segment.start, "duplicate": not result.created},
        )
    except Refusal as refusal:
        await _respond(send, refusal.status, {"ok": False, "error": refusal.message})
    finally:
        if incoming is not None:
            await asyncio.to_thread(incoming.discard)


class IngestRouter:
    """Segment uploads go to `ingest`; every other HTTP request to the Django application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = PATH_RE.match(scope.get("path", ""))
            if match is not None:
                return await ingest(scope, receive, send, match)
        await self.app(scope, receive, send)
