"""Daphne as the product runs it: the stock command line, large request-body pieces, body limits.

    python -m config.daphne -b 127.0.0.1 -p 8000 config.asgi:application

Daphne receives a whole request body first, then hands it to the application in
``request_buffer_size`` pieces, 8 KiB by default and not a command-line flag: a 3 MB
media segment became about 400 ASGI messages, each a queue hop and a buffer write on the
one event loop that also serves every websocket of the process. Pieces of 1 MiB make it
four (bench/ingest_bench.py; docs/benchmarks.md). Everything else is Daphne's own CLI,
so every flag it documents works here.

Because Daphne (Twisted) buffers the whole body, into memory or a temp file, before the
application sees a byte of it, no limit in Django or in the ingest endpoint can stop a client
from making the server store a gigabyte first. So the limit acts here, where the bytes arrive
(docs/decisions/0012): when the headers are in, a declared ``Content-Length`` over the route's
limit is answered 413 at once, before any body is read; a body without a declared length
(chunked) is counted as it arrives and cut off with 413 the moment it passes the limit. The
limits per route:

* segment ingest (``recordings.asgi``): ``SEGMENT_MAX_BYTES``;
* a room's Media and Files upload (and the admin's media entry form, which takes a file):
  ``media_library.conf.upload_request_max_bytes()``, the upload limit plus multipart overhead;
* everything else: ``REQUEST_BODY_MAX_BYTES`` (Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` by default).
"""

from __future__ import annotations

import gc
import json
import logging
import os
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

import django

# Limits are read per route from the product's own modules (the ingest route, the media
# library's upload limit), which import models: Django must be set up first, as config/asgi.py does.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.http_protocol import HTTPFactory, WebRequest  # noqa: E402
from daphne.server import Server  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from twisted.internet import reactor as twisted_reactor  # noqa: E402

from media_library import conf as media_conf  # noqa: E402
from recordings.asgi import PATH_RE as INGEST_PATH  # noqa: E402

# By name: run as `python -m config.daphne`, this module's __name__ is "__main__".
logger = logging.getLogger("config.daphne")
# Twisted's global reactor is typed as its module; it is the running reactor (Daphne's asyncio one).
reactor: Any = twisted_reactor

REQUEST_BUFFER_SIZE = 1024 * 1024
# Django views whose forms carry a file: they take up to the media upload limit.
UPLOAD_VIEWS = frozenset(
    {
        "media_library:room_media",
        "admin:media_library_mediaentry_add",
        "admin:media_library_mediaentry_change",
    }
)
# After a 413 the server stops sending, keeps reading (and dropping) what the client still
# sends for this long, then closes: a client busy sending reads our answer instead of a reset.
LINGER_SECONDS = 2.0


def body_limit(raw_target: bytes) -> int:
    """The largest body the route of this request target takes, in bytes."""
    default = int(settings.REQUEST_BODY_MAX_BYTES)
    try:
        # As Daphne builds the ASGI path: the request target without its query, percent-decoded.
        target = raw_target.decode("ascii")
        path = unquote(urlsplit(target).path if "://" in target[:8] else target.split("?", 1)[0])
    except (UnicodeDecodeError, ValueError):
        return default  # Daphne answers such a target 400 once the body is in: keep it small
    if INGEST_PATH.match(path):
        return int(settings.SEGMENT_MAX_BYTES)
    try:
        match = resolve(path)
    except Resolver404:
        return default
    except Exception:  # a target the resolver cannot even read is no upload route
        logger.debug("no route for %r", path, exc_info=True)
        return default
    if match.view_name in UPLOAD_VIEWS:
        return media_conf.upload_request_max_bytes()
    return default


def _too_large_response(path_is_ingest: bool, limit: int) -> bytes:
    if path_is_ingest:
        body = json.dumps({"ok": False, "error": f"A segment may be at most {limit} bytes."}).encode()
        content_type = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Request too large</title>"
            "<h1>Request too large</h1>"
            f"<p>This request is larger than this page accepts ({limit} bytes at most). Nothing of it was kept.</p>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    head = (
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Cache-Control: no-store\r\n"
        b"Connection: close\r\n\r\n"
    )
    return head + body


def _drop(data: bytes) -> None:
    """What a refused connection does with the bytes that still arrive: nothing."""


class LimitedRequest(WebRequest):
    """Daphne's request, refusing a body over its route's limit before buffering it.

    Twisted calls ``gotLength`` once the headers are in (the declared length, None for a
    chunked body) and ``handleContentChunk`` with each piece of the body; Daphne's request
    writes the pieces to ``self.content`` (memory under 100 kB, else a temp file) and runs the
    application only when the body is complete.
    """

    body_limit_bytes = 0
    body_received = 0
    refused = False

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted's name
        if length == 0:  # no body: nothing to limit (most requests)
            super().gotLength(length)
            return
        # The channel holds the request target until the body is complete (Twisted sets
        # self.uri only then); the limit is per route, so it is read there.
        target = getattr(self.channel, "_path", b"")
        self.body_limit_bytes = body_limit(target if isinstance(target, bytes) else b"")
        if length is not None and length > self.body_limit_bytes:
            self.content = BytesIO()
            self._refuse(target, declared=length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        if self.refused:
            return
        self.body_received += len(data)
        if self.body_received > self.body_limit_bytes:
            self._refuse(getattr(self.channel, "_path", b""), declared=None)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:  # noqa: N802
        if self.refused:  # answered already: the application never sees this request
            return
        super().requestReceived(command, path, version)

    def _refuse(self, target: object, *, declared: int | None) -> None:
        """Answer 413 now, drop whatever else arrives, and close."""
        self.refused = True
        channel = self.channel
        if channel is None or channel.transport is None:
            return
        # Twisted sends "100 Continue" after gotLength when asked to: not after our answer.
        self.requestHeaders.removeHeader(b"expect")
        content, self.content = self.content, BytesIO()
        if content is not None:
            content.close()  # a temp file holding the part received so far goes at once
        raw = target if isinstance(target, bytes) else b""
        path = raw.decode("ascii", "replace").split("?", 1)[0]
        transport = channel.transport
        transport.write(_too_large_response(bool(INGEST_PATH.match(unquote(path))), self.body_limit_bytes))
        peer = transport.getPeer()
        logger.warning(
            "413: request body %s refused for %s from %s:%s (limit %s bytes)",
            f"of {declared} bytes (declared)" if declared is not None else f"over {self.body_limit_bytes} bytes",
            path[:200],
            getattr(peer, "host", "?"),
            getattr(peer, "port", "?"),
            self.body_limit_bytes,
        )
        # Read and drop the rest (no parsing, no buffering), say we are done sending, and close
        # for good after the linger time if the client does not close first.
        channel.dataReceived = _drop
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        else:  # a transport that cannot half-close: close once the answer is out
            transport.loseConnection()
        reactor.callLater(LINGER_SECONDS, _close, transport)


def _close(transport: Any) -> None:
    if getattr(transport, "connected", False):
        transport.abortConnection()


class LimitedHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory, making our limited requests instead of its own."""

    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 - Twisted's name
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class ProductServer(Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_SIZE)
        super().__init__(*args, **kwargs)

    # Server.run() builds its HTTP factory inline (``self.http_factory = HTTPFactory(self)``)
    # and listens with it; this property makes that one our limited factory, without copying run().
    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        self._http_factory = factory if isinstance(factory, LimitedHTTPFactory) else LimitedHTTPFactory(self)


class ProductCommandLine(CommandLineInterface):
    server_class = ProductServer


def freeze_startup_objects() -> int:
    """Put everything made so far (Django, the apps, Twisted, Daphne: it lives as long as the process)
    out of the garbage collector's reach; returns how many objects that was.

    Every full collection walked all of it again, every few seconds in a busy room, holding the one
    event loop 50-130 ms each time: a 1,000-person room's notice waited behind it (bench/fanout_bench.py,
    docs/benchmarks.md). With it frozen a full collection took 14-56 ms. Objects made later (sockets,
    requests) are collected as before.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


if __name__ == "__main__":
    freeze_startup_objects()
    ProductCommandLine.entrypoint()
