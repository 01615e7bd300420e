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
  media. Not found and not allowed look the same (404). In a recording that asks for consent, the
  media of someone whose last answer is not "agree" is refused (409, with the reason).
* **Host and cross-site protection**, by Django's own code on a Django request built from the
  scope: ``get_host()`` (``ALLOWED_HOSTS``, the port split as Django splits it; 400 if not
  allowed) and ``CsrfViewMiddleware``'s origin check (its own origin or
  ``CSRF_TRUSTED_ORIGINS``, wildcard subdomains included). The ``Origin`` header is required,
  and so is the ``X-CSRFToken`` header, a custom header that no cross-site form can send and
  no cross-site script can send without a CORS preflight we never answer. The session cookie
  is also ``SameSite=Lax``, so a cross-site PUT carries no session at all.

Durability: the body is hashed and written to a temp file in the spool as it arrives, then
fsynced and renamed (file and directory entry) under a name that carries its hash, and only
then recorded and acknowledged. A retry of the same bytes gets 200 with the first copy's
answer; other bytes under a stored sequence number get 409; nothing is ever overwritten.
What is refused is refused before its body is written where possible (a track of someone
else, a stored sequence number), and a file written for a request that is refused after all
(the loser of a race for one sequence number) is removed: the spool holds only files that
have a Segment row. A spool whose disk is full answers 507 (docs/decisions/0011): the upload
is not kept, what was acknowledged before stays, the admin is alerted. With the spool in S3
(docs/decisions/0025) "durable" means S3 answered the PUT; a PUT that fails answers 503.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import Any, BinaryIO

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware

from meetings import permissions
from meetings.permissions import RoomAction
from recordings import services, spool
from recordings.models import Recording, Segment, Track
from recordings.notices import TEXTS
from recordings.spool import Spool, get_spool

logger = logging.getLogger(__name__)
# Where Django reports a refused Host header, so operators find both kinds in one place.
host_logger = logging.getLogger("django.security.DisallowedHost")

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
class Previous:
    """The segment already stored under this track and sequence number."""

    sha256: str
    start: float


@dataclass(frozen=True)
class Context:
    """What the first trip to the database found."""

    user: Any
    recording: Recording
    previous: Previous | None


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


def _keep_nothing(request: HttpRequest) -> HttpResponse:
    """The get_response of the CSRF middleware we borrow the origin check from; never called."""
    raise AssertionError("only CsrfViewMiddleware._origin_verified is used")


def _host_allowed(request: ASGIRequest) -> bool:
    """Django's own Host check (ALLOWED_HOSTS, the port split as Django splits it, X-Forwarded-Host as set)."""
    try:
        request.get_host()
    except DisallowedHost as exc:
        # One line, as a warning: a bad Host is the sender's fault, not ours.
        host_logger.warning("%s", exc)
        return False
    return True


def check_host_and_origin(scope: Scope) -> None:
    """The checks Django makes for a page, made by Django's own code on a request built from the scope.

    ``get_host()`` validates Host (or X-Forwarded-Host, as configured) against ALLOWED_HOSTS
    exactly as for a view (400 otherwise); ``CsrfViewMiddleware._origin_verified`` accepts the
    request's own origin (the scheme as ``SECURE_PROXY_SSL_HEADER`` says) and
    ``CSRF_TRUSTED_ORIGINS``, wildcard subdomains included. The body is not read here.
    """
    request = ASGIRequest(scope, io.BytesIO())
    if not _host_allowed(request):
        raise Refusal(400, "Bad Host header: this site does not answer to that name.")
    # A new middleware per request: its allowed origins are cached properties of the instance,
    # and settings may change (tests; an operator's reload builds a new process anyway).
    csrf = CsrfViewMiddleware(_keep_nothing)
    if "HTTP_ORIGIN" not in request.META or not csrf._origin_verified(request):  # type: ignore[attr-defined]
        raise Refusal(403, "Upload refused: send it from the room page (origin and CSRF header checked).")


def parse_upload(scope: Scope, match: re.Match[str]) -> Upload:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    check_host_and_origin(scope)
    if not headers.get("x-csrftoken"):
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
    try:
        # The route takes 32 to 36 hex digits and dashes; only a real UUID can name a recording.
        rec_uid = uuid.UUID(upload.rec_uid)
    except ValueError:
        raise Refusal(404, "No such recording in this room.") from None
    recording = (
        Recording.objects.select_related("room", "room__channel").filter(uid=rec_uid, room_id=upload.room_id).first()
    )
    if recording is None or not permissions.can(user, RoomAction.SEND_MEDIA, recording.room):
        raise Refusal(404, "No such recording in this room.")
    if not services.accepts_segments(recording):
        raise Refusal(409, "This recording is no longer accepting media.")
    if not services.may_record(recording=recording, user_id=user.pk):
        # Consent (issue 12): refused before the body is written, with the reason. 409, not 403: the
        # browser drops a 409 (its answer decides, a retry would not change it) but retries a 403.
        raise Refusal(409, TEXTS.text("consent_refused"))
    # The track (whose it is) and the segment under this number, in one query, so that what
    # would be refused after the body is refused before it is written.
    stored = Segment.objects.filter(track=OuterRef("pk"), seq=upload.seq)
    track = (
        Track.objects.filter(recording=recording, client_id=upload.client_id)
        .annotate(
            previous_sha256=Subquery(stored.values("sha256")[:1]),
            previous_start=Subquery(stored.values("start")[:1]),
        )
        .values("user_id", "kind", "previous_sha256", "previous_start")
        .first()
    )
    if track is not None and (track["user_id"] != user.pk or track["kind"] != upload.kind):
        raise Refusal(409, "That track belongs to someone else or is of another kind.")
    previous = None
    if track is not None and track["previous_sha256"] is not None:
        previous = Previous(sha256=track["previous_sha256"], start=track["previous_start"])
    return Context(user=user, recording=recording, previous=previous)


@database_sync_to_async
def forget_unrecorded(recording: Recording, relpath: str) -> None:
    """Remove a file written for a request that was refused after all, unless a row names it.

    The name carries the hash of the bytes, so a row with this path holds these very bytes (an
    identical upload that won): that file is kept.
    """
    if not Segment.objects.filter(track__recording=recording, path=relpath).exists():
        get_spool().remove(relpath)


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

    def __init__(self, spool: Spool, directory: str, keep: bool) -> None:
        self.spool = spool
        self.directory = directory
        self.temp: BinaryIO | None = spool.temp_file(f"{directory}.incoming") if keep else None
        self.digest = hashlib.sha256()
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.digest.update(piece)  # releases the GIL for large pieces
        if self.temp is not None:
            self.temp.write(piece)

    @property
    def relpath(self) -> str:
        """Where the bytes go: the name carries their hash, so equal bytes land on one file."""
        return f"{self.directory}-{self.digest.hexdigest()[:16]}.webm"

    def commit(self) -> str | None:
        if self.temp is None:
            return None
        relpath = self.relpath
        temp, self.temp = self.temp, None  # committed or failed, it is no longer ours to discard
        try:
            self.spool.commit(temp, relpath)
        except BaseException:
            self.spool.discard(temp)
            raise
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


SPOOL_FULL_MESSAGE = (
    "The server has no room to store this segment now (its recording storage is full). Nothing of this "
    "upload was kept; send it again shortly. The administrators have been alerted."
)


SPOOL_UNAVAILABLE_MESSAGE = (
    "The server could not store this segment now (its recording storage did not answer). Nothing of this "
    "upload was kept; send it again shortly."
)


async def _spool_full(exc: OSError, upload: Upload, context: Context) -> Refusal:
    """The spool's disk is full: log for the admin (ERROR), note it for the admin pages, answer 507."""
    root = get_spool().root
    free = await asyncio.to_thread(spool.free_bytes, root)
    logger.error(
        "spool full: segment %s of track %s of recording %s refused (%s); %s bytes free in %s",
        upload.seq, upload.client_id, context.recording.uid, exc.strerror or exc, free, root,
    )  # fmt: skip
    await asyncio.to_thread(spool.note_refusal)
    return Refusal(507, SPOOL_FULL_MESSAGE)


async def ingest(scope: Scope, receive: Receive, send: Send, match: re.Match[str]) -> None:
    if scope.get("method") not in ("PUT", "POST"):
        return await _respond(send, 405, {"ok": False, "error": "Send segments with PUT."})
    incoming: _Incoming | None = None
    try:
        upload = parse_upload(scope, match)
        context = await authorise(upload)
        try:
            incoming = _Incoming(
                get_spool(),
                f"{context.recording.uid}/{upload.client_id}/{upload.seq:06d}",
                keep=context.previous is None,
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
            relpath = incoming.relpath
            try:
                await asyncio.to_thread(incoming.commit)
            except spool.SpoolUnavailable:
                # Object storage did not take it: nothing was stored, the browser keeps it and retries.
                raise Refusal(503, SPOOL_UNAVAILABLE_MESSAGE) from None
            except OSError:
                # The rename may have happened before a later step failed: no row, no file.
                await forget_unrecorded(context.recording, relpath)
                raise
        except OSError as exc:
            if not spool.is_out_of_space(exc):
                raise
            raise await _spool_full(exc, upload, context) from None
        try:
            result = await record(upload, context, relpath, incoming.size, sha256)
        except services.RecordingError as exc:
            # Refused after the bytes were written (a race for this sequence number): drop them.
            await forget_unrecorded(context.recording, relpath)
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


async def _bad_host(send: Send) -> None:
    body = b"<h1>Bad Request (400)</h1>"  # what Django's own handler400 answers without a 400.html
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class IngestRouter:
    """Segment uploads go to `ingest`; every other HTTP request to the Django application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            match = PATH_RE.match(path)
            if match is not None:
                return await ingest(scope, receive, send, match)
            static_url = settings.STATIC_URL or ""
            if settings.DEBUG and static_url.startswith("/") and path.startswith(static_url):
                # With DEBUG on, config/asgi.py serves static files with Django's handler, outside the
                # middleware: a missing file gets Django's technical 404 page, which reads the Host and
                # fails with a 500 on one ALLOWED_HOSTS refuses. Refuse that Host first, 400, as every
                # page of the site does.
                if not _host_allowed(ASGIRequest(scope, io.BytesIO())):
                    return await _bad_host(send)
        await self.app(scope, receive, send)
