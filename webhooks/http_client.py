"""One POST of a webhook: to the checked address, a short timeout, no redirects, a bounded answer.

The standard library's http.client, so no HTTP library joins the product's dependencies for one
call. The connection goes to the address targets.resolve checked, with the URL's host in the
Host header and (https) in SNI and certificate checks.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from webhooks import targets

READ_MAX_BYTES = 64 * 1024  # read at most this much of an answer (the log keeps less)


@dataclass(frozen=True)
class Result:
    status_code: int | None
    duration_ms: int
    error: str
    body: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Result:
    """POST `body`; any answer, refusal, or network error becomes a Result (never raises)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        host, port, address = targets.resolve(url)
    except targets.TargetRefused as exc:
        return Result(status_code=None, duration_ms=elapsed(), error=str(exc)[:500], body="")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(READ_MAX_BYTES)
        return Result(
            status_code=response.status,
            duration_ms=elapsed(),
            error="" if 200 <= response.status < 300 else f"HTTP {response.status} {response.reason}"[:500],
            body=data.decode("utf-8", errors="replace"),
        )
    except TimeoutError:
        return Result(status_code=None, duration_ms=elapsed(), error=f"no answer within {timeout:g} s", body="")
    except (OSError, http.client.HTTPException) as exc:
        return Result(status_code=None, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500], body="")
    finally:
        connection.close()
