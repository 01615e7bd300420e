"""ASGI guard for segment uploads: refuse an oversized body before Django buffers it to disk."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from django.conf import settings

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class SegmentSizeGuard:
    def __init__(self, app: ASGIApp, path_marker: str = "/segments/") -> None:
        self.app = app
        self.path_marker = path_marker

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope.get("method") in ("PUT", "POST") and self.path_marker in scope.get("path", ""):
            headers = dict(scope.get("headers") or [])
            raw = headers.get(b"content-length")
            limit = settings.SEGMENT_MAX_BYTES
            if raw is None:
                return await self._reject(send, 411, "Send the segment with a Content-Length.")
            try:
                length = int(raw)
            except ValueError:
                return await self._reject(send, 400, "Bad Content-Length.")
            if length > limit:
                return await self._reject(send, 413, f"A segment may be at most {limit} bytes.")
        await self.app(scope, receive, send)

    @staticmethod
    async def _reject(send: Callable, status: int, message: str) -> None:
        body = json.dumps({"ok": False, "error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
