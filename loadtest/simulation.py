"""Synthetic meeting participants: real websockets and real segment uploads, as room.js does them.

Used by `manage.py simulate_meeting`, the benchmarks in bench/ and the live tests. Three parts:

- people and sign-in: idempotent `sim-*` users invited to a room, and Django sessions made
  directly in the database (what `Client.force_login` does), so the load generator can run
  against any server that shares the database;
- media: one VP8+Opus WebM segment per participant (a distinct colour and tone), generated
  once with PyAV and cached, then replayed for every sequence number;
- the async client (`SimParticipant`): answers clock probes, heartbeats, follows the room's
  recording state, records each track in real-time segments and uploads them in order with
  the browser's retry policy, timing every acknowledgement.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import json
import logging
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import websockets
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import get_random_string

from core import files
from meetings.models import ChannelMembership, ChannelRole, CollaboratorRole, Room, RoomCollaborator, User

logger = logging.getLogger(__name__)

HOST_USERNAME = "sim-host"
# room.js retries these (the segment stays queued); any other 4xx is dropped with a warning.
RETRY_STATUSES = frozenset({403, 429})
MAX_BACKOFF_SECONDS = 30.0
# Below one video frame at 20 fps a truncated final segment would hold no picture at all.
MIN_FINAL_SECONDS = 0.05
RECONNECT_CLOSE_CODES_FINAL = frozenset({4000, 4403})  # session ended / not allowed: a browser gives up too


# --- people and sign-in -------------------------------------------------------------------------


@dataclass(frozen=True)
class SimPeople:
    host: User | None
    participants: list[User]


@transaction.atomic
def ensure_people(*, room: Room, count: int, host: bool, prefix: str = "sim") -> SimPeople:
    """`{prefix}-001`... invited to `room`, and (if `host`) `sim-host` leading it; safe to run again.

    A single room's host is a co-editor (SPEC: co-editors host); a channel room's host is a channel
    manager, since only the channel decides roles there.
    """
    usernames = [f"{prefix}-{i:03d}" for i in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    new_users = []
    for username in usernames:
        if username not in existing:
            user = User(username=username, display_name=f"Simulated {username[len(prefix) + 1 :]}")
            user.set_unusable_password()  # they sign in only through sessions made here
            new_users.append(user)
    User.objects.bulk_create(new_users, batch_size=500)
    by_name = User.objects.in_bulk(usernames, field_name="username")
    participants = [by_name[name] for name in usernames]

    leader = None
    if host:
        leader, created = User.objects.get_or_create(
            username=HOST_USERNAME, defaults={"display_name": "Simulated host"}
        )
        if created:
            leader.set_unusable_password()
            leader.save(update_fields=["password"])

    if room.kind == Room.Kind.CHANNEL:
        channel = room.channel
        assert channel is not None  # the room_channel_iff_channel_kind constraint
        have = set(
            ChannelMembership.objects.filter(channel=channel, user__in=participants).values_list("user_id", flat=True)
        )
        ChannelMembership.objects.bulk_create(
            [
                ChannelMembership(channel=channel, user=u, role=ChannelRole.MEMBER)
                for u in participants
                if u.pk not in have
            ],
            batch_size=500,
        )
        if leader is not None:
            ChannelMembership.objects.update_or_create(
                channel=channel, user=leader, defaults={"role": ChannelRole.MANAGER}
            )
    else:
        room.invitees.add(*participants)
        if leader is not None:
            RoomCollaborator.objects.update_or_create(
                room=room, user=leader, defaults={"role": CollaboratorRole.CO_EDITOR}
            )
    return SimPeople(host=leader, participants=participants)


def login_sessions(users: Sequence[User]) -> dict[int, str]:
    """A signed-in session key per user, written by the configured session engine."""
    from importlib import import_module

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys: dict[int, str] = {}
    for user in users:
        store = store_class()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys[user.pk] = store.session_key
    return keys


# --- media --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaSpec:
    """One pre-generated segment: a camera (colour + tone) or a screen share (slides, no sound)."""

    kind: str  # "camera" or "screen"
    width: int
    height: int
    seconds: float
    rgb: tuple[int, int, int] = (128, 128, 128)
    tone_hz: float | None = None
    fps: int = 20
    noise: int = 0
    bitrate: int | None = None

    def cache_name(self) -> str:
        digest = hashlib.sha1(repr(self).encode()).hexdigest()[:16]
        return f"{self.kind}-{self.width}x{self.height}-{self.seconds:g}s-{digest}.webm"


def camera_spec(index: int, *, width: int, height: int, seconds: float) -> MediaSpec:
    """Participant `index`'s look: hues spread by the golden ratio, tones a semitone apart."""
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.9)
    rgb = (int(r * 255), int(g * 255), int(b * 255))
    tone = round(220.0 * 2 ** ((index % 36) / 12), 2)
    return MediaSpec(kind="camera", width=width, height=height, seconds=seconds, rgb=rgb, tone_hz=tone)


def screen_spec(*, seconds: float) -> MediaSpec:
    # Chromium's getDisplayMedia on a 1080p desktop; a slide deck changes little, 15 fps suffices.
    return MediaSpec(kind="screen", width=1920, height=1080, seconds=seconds, fps=15)


def _generate(spec: MediaSpec, path: str) -> str:
    from loadtest.synthetic import make_webm_segment

    with files.atomic_path(path, suffix=".webm") as tmp:
        make_webm_segment(
            tmp,
            width=spec.width,
            height=spec.height,
            duration_s=spec.seconds,
            fps=spec.fps,
            pattern="screen" if spec.kind == "screen" else spec.rgb,
            tone_hz=spec.tone_hz,
            audio=spec.kind == "camera",
            noise=spec.noise,
            bitrate=spec.bitrate,
        )
    return path


def prepare_media(specs: Sequence[MediaSpec], *, cache_dir: Path, workers: int = 2) -> dict[MediaSpec, bytes]:
    """The bytes of each spec, generating the missing ones in parallel (VP8 encoding is the slow part)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(specs))
    missing = [s for s in unique if not (cache_dir / s.cache_name()).exists()]
    if missing:
        logger.info("generating %d media segments in %s", len(missing), cache_dir)
        if len(missing) == 1 or workers <= 1:
            for spec in missing:
                _generate(spec, str(cache_dir / spec.cache_name()))
        else:
            # Callers close their DB connections first: forked workers must not share them.
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(pool.map(_generate, missing, [str(cache_dir / s.cache_name()) for s in missing]))
    return {spec: (cache_dir / spec.cache_name()).read_bytes() for spec in unique}


def truncate_webm(data: bytes, seconds: float) -> bytes:
    """The first `seconds` of a segment, by remux (no re-encode): a MediaRecorder stopped early.

    Cutting at the end keeps the leading keyframe, so the piece still decodes on its own.
    """
    seconds = max(seconds, MIN_FINAL_SECONDS)
    out = io.BytesIO()
    with av.open(io.BytesIO(data), "r", format="webm") as src, av.open(out, "w", format="webm") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            if packet.pts is not None and float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    return out.getvalue()


# --- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: with 1,000 samples p99 is the 990th, an observed value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[int(rank) - 1]


@dataclass
class UploadStats:
    acked: int = 0  # 201: stored now
    duplicates: int = 0  # 200: the server already had it
    dropped: int = 0  # refused for good (4xx), as room.js drops them
    retries: int = 0
    unsent: int = 0  # still queued or in flight when the run ended
    latencies: list[float] = field(default_factory=list)  # seconds, request start to response, accepted ones
    errors: dict[str, int] = field(default_factory=dict)

    def note_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def merge(self, other: UploadStats) -> None:
        self.acked += other.acked
        self.duplicates += other.duplicates
        self.dropped += other.dropped
        self.retries += other.retries
        self.unsent += other.unsent
        self.latencies.extend(other.latencies)
        for what, n in other.errors.items():
            self.errors[what] = self.errors.get(what, 0) + n


# --- uploads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentUpload:
    room_id: int
    rec_uid: str
    client_id: str
    kind: str
    seq: int
    body: bytes
    start_ms: float  # the browser's clock when the piece began
    duration_ms: float
    final: bool = False


def http_client(base_url: str, session_key: str, *, timeout: float = 60.0) -> httpx.AsyncClient:
    """A browser's HTTP side: its session and CSRF cookies, the CSRF header, its own connections."""
    token = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)  # cookie and header carry the same value
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        trust_env=False,
        cookies={"sessionid": session_key, "csrftoken": token},
        headers={"X-CSRFToken": token, "Origin": base_url},
    )


async def put_segment(client: httpx.AsyncClient, item: SegmentUpload, stats: UploadStats) -> bool:
    """PUT one segment until the server takes or refuses it; True if it is stored.

    The retry policy is room.js's: network errors, 5xx, 403 and 429 are retried with
    doubling back-off; any other 4xx is final. Callers bound a run's tail by cancelling.
    """
    url = f"/rooms/{item.room_id}/recordings/{item.rec_uid}/tracks/{item.client_id}/segments/{item.seq}"
    headers = {
        "Content-Type": "video/webm",
        "X-Track-Kind": item.kind,
        "X-Segment-Start": f"{item.start_ms:.0f}",
        "X-Segment-Duration": f"{item.duration_ms:.0f}",
        "X-Final": "1" if item.final else "0",
    }
    backoff = 1.0
    while True:
        began = time.perf_counter()
        try:
            response = await client.put(url, content=item.body, headers=headers)
        except httpx.HTTPError as exc:
            stats.note_error(type(exc).__name__)
            status = None
        else:
            status = response.status_code
            if status in (200, 201):
                stats.latencies.append(time.perf_counter() - began)
                if status == 201:
                    stats.acked += 1
                else:
                    stats.duplicates += 1
                return True
            stats.note_error(f"HTTP {status}")
            if status < 500 and status not in RETRY_STATUSES:
                logger.warning("segment %s/%s dropped: %s %s", item.client_id, item.seq, status, response.text[:200])
                stats.dropped += 1
                return False
        stats.retries += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


# --- the participant ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackMedia:
    kind: str
    segment: bytes  # replayed for every sequence number


# A simulated browser's signalling (the live mesh): sizes as Chromium's on one network.
SIM_SDP = "v=0\r\n" + "a=x" * 3_300
SIM_CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}
SIM_CANDIDATES = 6


@dataclass
class SimParticipant:
    """One browser tab in the room: a websocket, and (if it has tracks) capture and uploads."""

    name: str
    session_key: str
    room_id: int
    base_url: str
    tracks: list[TrackMedia] = field(default_factory=list)
    segment_seconds: float = 10.0

    stats: UploadStats = field(default_factory=UploadStats)
    # (text, perf_counter at arrival) of every notice; benchmarks time fan-out from these.
    notices: list[tuple[str, float]] = field(default_factory=list)
    states_seen: list[str] = field(default_factory=list)  # the recording's state, as broadcast
    errors: list[str] = field(default_factory=list)
    role: str | None = None
    ended: bool = False  # the session ended (the server closed the socket with 4000)
    # The live mesh (decision 0032): this socket's peer id once admitted, and its peers (id -> sends).
    peer_id: str | None = None
    sends: bool = False
    mesh_peers: dict[str, bool] = field(default_factory=dict)
    signals_received: int = 0
    signals_sent: int = 0

    def __post_init__(self) -> None:
        self._ws: Any = None
        self._ready = asyncio.Event()
        self._heartbeat_seconds: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._acks: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._capture_uid: str | None = None
        self._capture_stop: asyncio.Event | None = None
        self._queue: asyncio.Queue[SegmentUpload] = asyncio.Queue()
        self._http: httpx.AsyncClient | None = None
        self._closing = False
        self._captures: set[asyncio.Task[None]] = set()
        self._uploading = False

    @property
    def joined(self) -> bool:
        return self._ready.is_set()

    # -- lifecycle --

    async def connect(self, *, open_timeout: float = 60.0) -> None:
        """Open the socket and return once the server's `state` arrived."""
        ws_url = self.base_url.replace("http", "ws", 1) + f"/ws/rooms/{self.room_id}/"
        ws = await websockets.connect(
            ws_url,
            origin=websockets.Origin(self.base_url),
            additional_headers={"Cookie": f"sessionid={self.session_key}"},
            open_timeout=open_timeout,
            proxy=None,
            ping_interval=None,
        )
        self._ws = ws
        self._ready.clear()
        self._spawn(self._read_loop(ws))
        try:
            await asyncio.wait_for(self._ready.wait(), open_timeout)
        except TimeoutError:
            await ws.close()  # accepted but never told the state: this attempt failed
            raise

    async def close(self, *, drain_timeout: float = 60.0) -> None:
        """Stop capture, let queued uploads finish (bounded), close everything."""
        self._closing = True
        self._end_capture()
        loop = asyncio.get_running_loop()
        end = loop.time() + drain_timeout
        while (self._captures or not self._queue.empty() or self._uploading) and loop.time() < end:
            await asyncio.sleep(0.05)
        self.stats.unsent += self._queue.qsize() + int(self._uploading)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.aclose()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- commands --

    async def command(self, type_: str, *, timeout: float = 30.0) -> tuple[dict[str, Any], float]:
        """Send a leader command; returns the server's ack and the perf_counter when it was sent."""
        self._next_id += 1
        ref = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[ref] = future
        sent_at = time.perf_counter()
        await self._send({"type": type_, "id": ref})
        try:
            return await asyncio.wait_for(future, timeout), sent_at
        finally:
            self._acks.pop(ref, None)

    async def send_raw(self, message: dict[str, Any]) -> float:
        """Send any message (benchmarks' anchor app); returns the perf_counter when it was sent."""
        sent_at = time.perf_counter()
        await self._send(message)
        return sent_at

    async def _send(self, message: dict[str, Any]) -> None:
        await self._ws.send(json.dumps(message))

    # -- incoming --

    async def _read_loop(self, ws: Any) -> None:
        heartbeat: asyncio.Task[Any] | None = None
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "state":
                    self._heartbeat_seconds = message.get("heartbeat_seconds")
                    if heartbeat is None and self._heartbeat_seconds:
                        heartbeat = self._spawn(self._heartbeat_loop())
                await self._handle(message, arrived=time.perf_counter())
        except websockets.ConnectionClosed:
            pass
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
        code = ws.close_code
        if code == 4000:
            self.ended = True
            self._end_capture()
        elif self.joined and not self._closing and code not in RECONNECT_CLOSE_CODES_FINAL:
            self._ready.clear()  # not joined until the server's state arrives again
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """A dropped socket comes back with back-off, as room.js does; capture goes on meanwhile."""
        delay = 1.0
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self.connect()
                return
            except (TimeoutError, OSError, websockets.WebSocketException) as exc:
                self.errors.append(f"reconnect: {exc!r}")
                delay = min(delay * 2, 15.0)

    async def _heartbeat_loop(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._heartbeat_seconds or 10.0)
                await self._send({"type": "heartbeat"})
        except websockets.ConnectionClosed:
            pass  # the read loop sees the close too and decides about reconnecting

    def _ack_waiting(self, message: dict[str, Any]) -> asyncio.Future[dict[str, Any]] | None:
        """The future of the command an ack or error answers (our ids are ints), if still waiting."""
        ref = message.get("id")
        return self._acks.get(ref) if isinstance(ref, int) else None

    async def _handle(self, message: dict[str, Any], *, arrived: float) -> None:
        kind = message.get("type")
        if kind in ("clock_probe", "state") and "server_time" in message:  # as socket.js: a state is a probe too
            await self._send(
                {"type": "clock_reply", "server_time": message["server_time"], "client_time": time.time() * 1000}
            )
        if kind == "notice":
            self.notices.append((message.get("text", ""), arrived))
        elif kind in ("state", "recording"):
            if kind == "state":
                self.role = message.get("role")
            self._follow_recording(message.get("recording"))
            if kind == "state":
                self._ready.set()
        elif kind == "ack":
            future = self._ack_waiting(message)
            if future is not None and not future.done():
                future.set_result(message)
        elif kind == "error":
            self.errors.append(message.get("error", ""))
            future = self._ack_waiting(message)
            if future is not None and not future.done():
                future.set_exception(RuntimeError(message.get("error")))
        elif kind == "session_ended":
            self.ended = True
            self._end_capture()
        elif kind == "roster":
            self.peer_id, self.sends = message.get("peer_id"), bool(message.get("sends"))
            self.mesh_peers = {p["peer"]: bool(p["sends"]) for p in message.get("peers", [])}
        elif kind == "peer_joined":
            self.mesh_peers[message["peer"]["peer"]] = bool(message["peer"]["sends"])
        elif kind == "peer_left":
            self.mesh_peers.pop(str(message.get("peer_id")), None)
        elif kind == "signal":
            self.signals_received += 1
            if message.get("kind") == "offer" and message.get("from_peer"):
                self._spawn(self._describe(message["from_peer"], "answer"))

    async def signal_burst(self) -> int:
        """What a browser sends its mesh on joining: an offer and a trickle of ICE candidates to each
        peer it exchanges media with (each peer answers the same way). Returns the messages sent."""
        sent = 0
        for peer, peer_sends in list(self.mesh_peers.items()):
            if self.sends or peer_sends:
                sent += await self._describe(peer, "offer")
        return sent

    async def _describe(self, peer: str, kind: str) -> int:
        """An offer or answer (Chromium's is 8-12 KB for camera and microphone) and its candidates."""
        await self._send({"type": "signal", "to": peer, "kind": kind, "sdp": SIM_SDP})
        for _ in range(SIM_CANDIDATES):
            await self._send({"type": "signal", "to": peer, "kind": "candidate", "candidate": SIM_CANDIDATE})
        self.signals_sent += 1 + SIM_CANDIDATES
        return 1 + SIM_CANDIDATES

    # -- capture --

    def _follow_recording(self, recording: dict[str, Any] | None) -> None:
        """room.js renderRecording: capture while the room's recording is capturing."""
        if recording is not None and (not self.states_seen or self.states_seen[-1] != recording["state"]):
            self.states_seen.append(recording["state"])
        if recording is not None and recording.get("capturing"):
            if self._capture_uid != recording["uid"] and self.tracks:
                self._end_capture()
                self._begin_capture(recording["uid"])
        elif self._capture_uid is not None:
            self._end_capture()

    def _begin_capture(self, uid: str) -> None:
        self._capture_uid = uid
        self._capture_stop = asyncio.Event()
        if self._http is None:
            self._http = http_client(self.base_url, self.session_key)
            self._spawn(self._upload_loop())
        for track in self.tracks:
            client_id = f"{track.kind}-{secrets.token_hex(8)}"
            task = self._spawn(self._record_track(track, uid, client_id, self._capture_stop))
            self._captures.add(task)
            task.add_done_callback(self._captures.discard)

    def _end_capture(self) -> None:
        if self._capture_stop is not None:
            self._capture_stop.set()
        self._capture_uid = None
        self._capture_stop = None

    async def _record_track(self, track: TrackMedia, uid: str, client_id: str, stop: asyncio.Event) -> None:
        """One MediaRecorder restarted every segment: piece k is queued when it ends, the last on stop."""
        loop = asyncio.get_running_loop()
        epoch_offset = time.time() - loop.time()  # the "browser clock" of each piece's start
        seq, began = 0, loop.time()
        while True:
            due = began + self.segment_seconds
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, due - loop.time()))
            except TimeoutError:
                self._queue.put_nowait(
                    SegmentUpload(
                        room_id=self.room_id,
                        rec_uid=uid,
                        client_id=client_id,
                        kind=track.kind,
                        seq=seq,
                        body=track.segment,
                        start_ms=(began + epoch_offset) * 1000,
                        duration_ms=self.segment_seconds * 1000,
                    )
                )
                seq, began = seq + 1, due  # scheduled from the plan, not from now: no drift
                continue
            length = loop.time() - began
            body = await asyncio.to_thread(truncate_webm, track.segment, length)
            self._queue.put_nowait(
                SegmentUpload(
                    room_id=self.room_id,
                    rec_uid=uid,
                    client_id=client_id,
                    kind=track.kind,
                    seq=seq,
                    body=body,
                    start_ms=(began + epoch_offset) * 1000,
                    duration_ms=length * 1000,
                    final=True,
                )
            )
            return

    async def _upload_loop(self) -> None:
        """room.js's uploader: one request at a time, oldest first, each retried until settled."""
        assert self._http is not None
        while True:
            item = await self._queue.get()
            self._uploading = True
            try:
                await put_segment(self._http, item, self.stats)
            finally:
                self._uploading = False


async def connect_all(
    participants: Sequence[SimParticipant], *, batch: int = 50, attempts: int = 3
) -> list[BaseException]:
    """Connect in batches (a thousand simultaneous handshakes only measure the accept queue).

    A refused or timed-out handshake is tried again after the others, as room.js reconnects;
    returns the errors of those still out after `attempts` rounds.
    """
    failures: list[BaseException] = []
    waiting = list(participants)
    for _ in range(attempts):
        failures = []
        for i in range(0, len(waiting), batch):
            results = await asyncio.gather(*(p.connect() for p in waiting[i : i + batch]), return_exceptions=True)
            failures.extend(r for r in results if isinstance(r, BaseException))
        waiting = [p for p in waiting if not p.joined]
        if not waiting:
            break
    return failures


# --- a whole meeting ----------------------------------------------------------------------------


@dataclass
class MeetingOutcome:
    recording_uid: str | None
    everyone: list[SimParticipant]
    connect_failures: list[str]

    def upload_stats(self) -> UploadStats:
        total = UploadStats()
        for participant in self.everyone:
            total.merge(participant.stats)
        return total


async def run_meeting(
    *,
    participants: Sequence[SimParticipant],
    host: SimParticipant | None,
    duration: float,
    record: bool,
    drain_timeout: float = 60.0,
) -> MeetingOutcome:
    """Join everyone, optionally record for `duration` seconds (else just stay), then leave.

    Participants capture whenever the room's recording is capturing, as browsers do, so a
    recording started by someone else (a real browser) is fed too.
    """
    everyone = ([host] if host is not None else []) + list(participants)
    failures = await connect_all(everyone)
    connected = [p for p in everyone if p.joined]
    uid = None
    try:
        if record:
            if host is None or host not in connected:
                raise RuntimeError("the simulated host could not join, so nobody can start the recording")
            ack, _ = await host.command("start_recording")
            uid = ack["uid"]
        await asyncio.sleep(duration)
        if record and host is not None and not host.ended:
            await host.command("stop_recording")
    finally:
        await asyncio.gather(*(p.close(drain_timeout=drain_timeout) for p in everyone))
    return MeetingOutcome(recording_uid=uid, everyone=everyone, connect_failures=[repr(f) for f in failures])
