"""HTTP fuzzing of a real Daphne: thousands of random, malformed and hostile requests, 0 server errors.

    .venv/bin/python scripts/with_redis.py .venv/bin/python bench/fuzz_http.py --requests 10000 [--seed 7]

The command runs tests/hardening/test_fuzz_http.py with that many requests: the test makes a
PostgreSQL test database with the demo people, rooms, an entry, a folder, a share link and a
running recording, starts `python -m config.daphne` on it (DEBUG on, as `make run`), drives it
from here with this module's `fuzz()`, and requires no 5xx answer and no traceback in the
server's log. The normal suite runs the same test with a few hundred requests.

What is sent (weights in KINDS): GETs of every page with real and garbage ids and random query
strings; the site's forms (media entry actions, delete, a room's Media and Files with uploads,
notices, close room, sign-in) with random fields, mostly with a valid CSRF token; segment
uploads to ingest with random headers, lengths and bodies; raw malformed HTTP over a socket
(broken request lines and headers, lying lengths, bad chunking, huge headers, bad Host); random
methods on random paths. As every role of the room (host, moderator, participant, outsider,
staff) and anonymously. Requests are reproducible from the seed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import string
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent


CONTROL_BYTES = bytes(range(32)) + b"\x7f"


def header_value(text: str) -> bytes:
    """Random text as a header value an HTTP client sends: no control bytes, no edge spaces.

    (Control bytes in headers are sent raw by the "raw" requests below, where no client checks them.)
    """
    return text.encode("utf-8", "replace").translate(None, CONTROL_BYTES).strip(b" ")


def seg(text: str) -> str:
    """Random text as one path segment, percent-encoded as a browser sends it."""
    return quote(text, safe="")


@dataclass
class Target:
    """What the fuzzer may name: the server, sessions per role, a CSRF pair and real ids."""

    base_url: str
    port: int
    sessions: dict[str, str]  # role -> sessionid ("" for anonymous)
    csrf: str
    room_ids: list[int]
    entry_ids: list[int]
    folder_ids: list[int]
    notice_ids: list[int]
    share_tokens: list[str]
    recording: tuple[int, str]  # room id, recording uid
    channel_slug: str


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    no_answer: int = 0  # raw requests the server closed without an answer (malformed beyond reply)
    server_errors: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "no_answer": self.no_answer,
            "server_errors": len(self.server_errors),
            "server_error_samples": self.server_errors[:20],
            "client_errors": len(self.client_errors),
            "client_error_samples": self.client_errors[:20],
            "seconds": round(self.seconds, 1),
        }


NASTY = [
    "", " ", "-1", "0", "1", "x", "my_media", "9" * 25, "1e309", "NaN", "/", "//evil.example", "https://evil.example",
    "\x00", "../../etc/passwd", "%00", "%ff%fe", "<script>alert(1)</script>", "１２", "\u202e", "a" * 3000, "camera",
    "screen", "co_editor", "co_viewer", "co_publisher", "yes", "true", "None", "'; DROP TABLE x; --", "{{7*7}}",
]  # fmt: skip
FIELDS = [
    "action", "title", "name", "next", "folder", "folder_id", "entry_id", "username", "role", "user_id",
    "expires_in_days", "link_id", "confirm", "js", "password", "q", "page", "csrfmiddlewaretoken",
]  # fmt: skip
ENTRY_ACTIONS = ["rename", "add_collaborator", "remove_collaborator", "create_share", "revoke_share", "x", ""]
ROOM_ACTIONS = ["upload", "create_folder", "rename_folder", "delete_folder", "rename_entry", "x", ""]


class Fuzzer:
    def __init__(self, target: Target, rng: random.Random) -> None:
        self.t, self.rng = target, rng

    # --- values -------------------------------------------------------------------------------------

    def text(self, max_len: int = 40) -> str:
        r = self.rng
        pick = r.random()
        if pick < 0.45:
            return r.choice(NASTY)
        if pick < 0.65:
            return str(r.choice([r.randint(-(10**20), 10**20), r.randint(0, 50)]))
        alphabet = string.printable + "éü日本\u200b\u0301\U0001f600"
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, max_len)))

    def an_id(self, real: list[int]) -> str:
        r = self.rng
        if real and r.random() < 0.6:
            return str(r.choice(real))
        return r.choice(["0", "-1", "999999999", "9" * 19, "9" * 40, "abc", "1.5", "%31", "", "00001"])

    def query(self) -> str:
        r = self.rng
        params = [(r.choice([*FIELDS, self.text(8)]), self.text(30)) for _ in range(r.randint(0, 4))]
        return httpx.QueryParams(params).__str__()

    def form(self) -> list[tuple[str, str]]:
        r = self.rng
        return [(r.choice(FIELDS) if r.random() < 0.8 else self.text(10), self.text()) for _ in range(r.randint(0, 7))]

    def role(self) -> str:
        return self.rng.choice(list(self.t.sessions))

    # --- requests -----------------------------------------------------------------------------------

    def page_path(self) -> str:
        t, r = self.t, self.rng
        room, entry = seg(self.an_id(t.room_ids)), seg(self.an_id(t.entry_ids))
        token = seg(r.choice([*t.share_tokens, self.text(70)]))
        return r.choice(
            [
                "/", "/login/", "/my-media/", f"/channels/{t.channel_slug}/media/",
                f"/channels/{seg(self.text(20))}/media/",
                f"/rooms/{room}/", f"/rooms/{room}/media/", f"/rooms/{room}/media/panel/", f"/media/{entry}/",
                f"/media/{entry}/stream/", f"/media/{entry}/download/", f"/media/{entry}/poster/",
                f"/media/{entry}/delete/", f"/s/{token}/", f"/s/{token}/stream/", f"/s/{token}/poster/",
                f"/notices/{seg(self.an_id(t.notice_ids))}/seen/", "/admin/", "/admin/recordings/recording/",
                "/admin/media_library/mediaentry/", "/admin/meetings/room/", f"/{quote(self.text(30), safe='/%')}",
                "/static/css/app.css", f"/static/{quote(self.text(20), safe='/%')}",
            ]
        )  # fmt: skip

    def headers(self, role: str, *, csrf: bool = True) -> dict[str, str | bytes]:
        h: dict[str, str | bytes] = {"Origin": self.t.base_url, "Referer": self.t.base_url + "/"}
        if csrf:
            h["X-CSRFToken"] = self.t.csrf
        if self.rng.random() < 0.1:
            h[self.rng.choice(["Range", "Accept", "If-Range", "Content-Type", "Accept-Language"])] = header_value(
                self.text(40)
            )
        if self.rng.random() < 0.05:
            h["Range"] = self.rng.choice(["bytes=0-", "bytes=-1", "bytes=5-2", "bytes=0-0,1-1", "bytes=x", "bytes="])
        return h

    def cookies(self, role: str) -> dict[str, str]:
        """The Cookie header of `role` (set per request: the client keeps no cookie between requests)."""
        cookie = f"csrftoken={self.t.csrf}"
        if self.t.sessions[role]:
            cookie += f"; sessionid={self.t.sessions[role]}"
        return {"Cookie": cookie}

    def http_get(self, client: httpx.Client) -> httpx.Response:
        role = self.role()
        path = self.page_path() + "?" + self.query()
        method = "HEAD" if self.rng.random() < 0.1 else "GET"
        return client.request(method, path, headers=self.headers(role) | self.cookies(role))

    def http_form(self, client: httpx.Client) -> httpx.Response:
        t, r = self.t, self.rng
        role = r.choice([name for name in t.sessions if name != "anonymous"] + ["anonymous"])
        room, entry = seg(self.an_id(t.room_ids)), seg(self.an_id(t.entry_ids))
        data = self.form()
        kind = r.random()
        files = None
        if kind < 0.3:
            path = f"/media/{entry}/"
            data.append(("action", r.choice(ENTRY_ACTIONS)))
        elif kind < 0.4:
            path = f"/media/{entry}/delete/"
            data.append(("confirm", r.choice(["yes", "no", ""])))
        elif kind < 0.7:
            path = f"/rooms/{room}/media/" + r.choice(
                ["", "?panel=1", "?panel=1&folder=" + seg(self.an_id(t.folder_ids))]
            )
            data.append(("action", r.choice(ROOM_ACTIONS)))
            if r.random() < 0.5:
                data.append(("folder_id", self.an_id(t.folder_ids)))
            if r.random() < 0.4:
                files = {"file": (self.text(30) or "f", r.randbytes(r.randint(0, 4096)), self.text(20) or "x/y")}
        elif kind < 0.8:
            path = f"/notices/{seg(self.an_id(t.notice_ids))}/seen/"
        elif kind < 0.87:
            path = f"/rooms/{room}/close/"
        else:
            path = r.choice(["/login/", "/admin/login/"])
            data += [("username", r.choice(["host", "admin", self.text(20)])), ("password", self.text(20))]
        headers = self.headers(role, csrf=r.random() < 0.9) | self.cookies(role)
        fields: dict[str, list[str]] = {}
        for name, value in data:
            fields.setdefault(name, []).append(value)
        return client.post(path, data=fields, files=files, headers=headers)

    def http_ingest(self, client: httpx.Client) -> httpx.Response:
        t, r = self.t, self.rng
        room_id, uid = t.recording
        if r.random() < 0.3:
            uid = r.choice(["a" * 33, "f" * 36, "-" * 32, self.text(36).replace("/", "")]) or uid
        if r.random() < 0.2:
            other = self.an_id(t.room_ids)
            room_id = int(other) if other.isdigit() else room_id
        track = r.choice(["camera-fz", "screen-fz", "camera-" + str(r.randint(0, 3)), "".join(
            r.choice(string.ascii_letters + "-_") for _ in range(r.randint(1, 70)))])  # fmt: skip
        seq = r.choice([r.randint(0, 50), r.randint(0, 999_999_999)])
        path = f"/rooms/{room_id}/recordings/{seg(uid)}/tracks/{track}/segments/{seq}"
        role = self.role()
        body = r.choice([b"\x1a\x45\xdf\xa3" + r.randbytes(r.randint(0, 20000)), r.randbytes(r.randint(0, 2000)), b""])
        headers = self.headers(role)
        for name in ("X-Track-Kind", "X-Segment-Start", "X-Segment-Duration", "X-Final"):
            if r.random() < 0.5:
                headers[name] = header_value(
                    r.choice(["camera", "screen", "1", "true", "nan", "1e400", "-5", self.text(20)])
                )
        if r.random() < 0.1:
            headers["Host"] = r.choice(["evil.example", "a,b", "127.0.0.1:99999", "[::1", ""])
        method = r.choice(["PUT"] * 6 + ["POST", "GET", "DELETE", "PATCH"])
        return client.request(method, path, content=body, headers=headers | self.cookies(role))

    def raw(self) -> int | None:
        """A malformed request over a raw socket; the status line's code, or None if the server just closed."""
        r = self.rng
        path = self.page_path().encode("utf-8", "replace")
        choices: list[Callable[[], bytes]] = [
            lambda: b"GARBAGE\r\n\r\n",
            lambda: b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n",
            lambda: b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
            lambda: b"GET /" + bytes(r.randint(128, 255) for _ in range(10)) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            lambda: b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n",
            lambda: b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
            lambda: (
                b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            ),
            lambda: b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999\r\n\r\nabc",
            lambda: b"GET " + path + b" HTTP/1.1\r\nHost: " + self.text(20).encode("utf-8", "replace") + b"\r\n\r\n",
            lambda: b"GET " + path + b" HTTP/1.0\r\n\r\n",
            lambda: b"GET http://evil.example" + path + b" HTTP/1.1\r\nHost: evil.example\r\n\r\n",
            lambda: (
                b"PUT /rooms/1/recordings/" + b"a" * 33 + b"/tracks/x/segments/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n4\r\n\x1a\x45\xdf\xa3\r\n0\r\n\r\n"
            ),
            lambda: (
                b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            ),
            lambda: b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid=" + b"\xff" * 40 + b"\r\n\r\n",
        ]
        request = r.choice(choices)()
        try:
            with socket.create_connection(("127.0.0.1", self.t.port), timeout=10) as sock:
                data = b""
                try:
                    # No half-close after it: Twisted takes a client's FIN for the end of the connection.
                    sock.sendall(request)
                except OSError:
                    pass  # the server answered and closed before taking it all (a 400 for a huge header)
                while len(data) < 64 and b"\r\n" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except OSError:  # reset, timed out: no answer
            return None
        if data.startswith(b"HTTP/"):
            try:
                return int(data.split(b" ", 2)[1])
            except (IndexError, ValueError):
                return None
        return None


ACCESS_5XX = re.compile(r'" 5\d\d \d+$')
KINDS: list[tuple[str, int]] = [("get", 35), ("form", 30), ("ingest", 20), ("raw", 10), ("method", 5)]


def fuzz(target: Target, requests: int, *, seed: int = 0, concurrency: int = 6) -> Report:
    """Send `requests` random requests to the target; count answers, keep samples of 5xx."""
    report = Report()
    lock = threading.Lock()
    started = time.monotonic()
    names = [name for name, _ in KINDS]
    weights = [weight for _, weight in KINDS]

    def one(index: int, client: httpx.Client) -> None:
        rng = random.Random(seed * 1_000_003 + index)  # each request reproducible on its own
        fuzzer = Fuzzer(target, rng)
        kind = rng.choices(names, weights)[0]
        what = kind
        status: int | None
        try:
            if kind == "raw":
                status = fuzzer.raw()
            elif kind == "method":
                method = rng.choice(["PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW", "PUT", "POST"])
                path = fuzzer.page_path()
                what = f"{method} {path}"
                body = rng.randbytes(rng.randint(0, 500))
                status = client.request(method, path, content=body, headers=fuzzer.cookies(fuzzer.role())).status_code
            else:
                response = {"get": fuzzer.http_get, "form": fuzzer.http_form, "ingest": fuzzer.http_ingest}[kind](
                    client
                )
                status = response.status_code
                what = f"{response.request.method} {response.request.url.raw_path.decode('ascii', 'replace')[:200]}"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            client.cookies.clear()
            with lock:
                report.requests += 1
                report.client_errors.append(f"#{index} {kind}: {type(exc).__name__}: {exc}"[:300])
            return
        client.cookies.clear()  # a sign-in's or a CSRF cookie must not ride along on the next request
        with lock:
            report.requests += 1
            if status is None:
                report.no_answer += 1
                return
            report.statuses[status] += 1
            if status >= 500:
                report.server_errors.append(f"#{index} {status} {what}")

    def worker(indices: range) -> None:
        with httpx.Client(base_url=target.base_url, timeout=60, follow_redirects=False) as client:
            for index in indices:
                one(index, client)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(worker, [range(i, requests, concurrency) for i in range(concurrency)]))
    report.seconds = time.monotonic() - started
    return report


def log_faults(log: str) -> list[str]:
    """Lines of a Daphne log that show a fault of ours: tracebacks, application exceptions, 5xx answers."""
    faults = []
    for line in log.splitlines():
        if any(sign in line for sign in ("Traceback (most recent call last)", "Exception inside application",
                                         "Internal Server Error:", "Daphne HTTP processing error")):  # fmt: skip
            faults.append(line)
        elif ACCESS_5XX.search(line):  # Daphne's access log: ... "GET /path" 500 1234
            faults.append(line)
    return faults


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", default=str(ROOT / "var" / "fuzz-http.json"))
    args = parser.parse_args()
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FUZZ_REQUESTS=str(args.requests), FUZZ_SEED=str(args.seed), FUZZ_REPORT=args.report)
    test = "tests/hardening/test_fuzz_http.py"
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=ROOT, env=env)
    if Path(args.report).exists():
        print(json.dumps(json.loads(Path(args.report).read_text()), indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
