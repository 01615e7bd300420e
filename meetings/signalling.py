"""The live meeting's mesh (issue 11): who is in a session, and WebRTC signalling between them.

The one small interface a media server (SFU) would replace later (docs/decisions, "mesh"): the
room socket (rooms.consumers) asks this module to validate a browser's signalling message
(`parse_signal`, `parse_media_state`), to rate-limit it (`RateLimiter`), to register, find and
remove peers (`Roster`), and for the ICE servers a page uses (`ice_servers`). Everything else of
the mesh lives in the browser (static/js/room/mesh.js).

The roster lives in Redis, not in the database: a join reads it in one round trip and writes one
key, with no query on the thread that runs every socket's database work. Each peer's key expires
unless its socket's heartbeats refresh it, so a socket that died with its server process leaves
the roster by itself (like its `Presence` row); a live socket whose key went all the same (a Redis
restart) registers again at its next heartbeat.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# Chromium's SDP for camera, microphone and a shared screen is 8-12 KB; a cap well above it, below
# the socket's frame cap for signalling (rooms.consumers.MAX_SIGNAL_BYTES).
MAX_SDP_CHARS = 24_000
MAX_CANDIDATE_CHARS = 1_024
MAX_MID_CHARS = 32
PEER_ID = re.compile(r"[0-9a-f]{16}")
# A MediaStream id as browsers make them (a UUID, or "{uuid}" in Firefox): printable, short.
STREAM_ID = re.compile(r"[A-Za-z0-9{}_-]{1,64}")
SIGNAL_KINDS = frozenset({"offer", "answer", "candidate"})
# Signalling, media state and mute requests per socket: a join in an 8-person mesh sends about
# 7 offers or answers and a few dozen candidates at once; a steady stream beyond this is abuse.
RATE_PER_SECOND = 40.0
RATE_BURST = 200.0


class SignalError(ValueError):
    """A signalling message that is not what the mesh expects; the text is safe to show."""


def new_peer_id() -> str:
    """A socket's id in the mesh: random, so it says nothing about the channel or the person."""
    return secrets.token_hex(8)


# --- Validation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    to: str
    kind: str
    sdp: str | None = None
    candidate: dict[str, Any] | None = None


def parse_signal(content: dict[str, Any]) -> Signal:
    """{"type": "signal", "to": peer id, "kind": "offer"|"answer"|"candidate", "sdp" | "candidate"}."""
    to, kind = content.get("to"), content.get("kind")
    if not isinstance(to, str) or not PEER_ID.fullmatch(to):
        raise SignalError("A signalling message names its peer (to).")
    if kind not in SIGNAL_KINDS:
        raise SignalError('A signalling message is an "offer", an "answer" or a "candidate".')
    if kind in ("offer", "answer"):
        sdp = content.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP_CHARS:
            raise SignalError(f"An offer or answer needs a session description of at most {MAX_SDP_CHARS} characters.")
        return Signal(to=to, kind=kind, sdp=sdp)
    return Signal(to=to, kind=kind, candidate=_candidate(content.get("candidate")))


def _candidate(value: object) -> dict[str, Any] | None:
    """An RTCIceCandidateInit, rebuilt from its known fields only; None: the end of candidates."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SignalError("A candidate is an object (RTCIceCandidateInit) or null.")
    candidate, mid, index = value.get("candidate"), value.get("sdpMid"), value.get("sdpMLineIndex")
    if not isinstance(candidate, str) or len(candidate) > MAX_CANDIDATE_CHARS:
        raise SignalError(f"A candidate's text is a string of at most {MAX_CANDIDATE_CHARS} characters.")
    if mid is not None and (not isinstance(mid, str) or len(mid) > MAX_MID_CHARS):
        raise SignalError("A candidate's sdpMid is a short string.")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64):
        raise SignalError("A candidate's sdpMLineIndex is a small integer.")
    return {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}


@dataclass(frozen=True)
class MediaState:
    mic: bool
    cam: bool
    screen: str | None  # the shared screen's MediaStream id, or None


def parse_media_state(content: dict[str, Any]) -> MediaState:
    """{"type": "media_state", "mic": bool, "cam": bool, "screen": stream id | null}."""
    mic, cam, screen = content.get("mic"), content.get("cam"), content.get("screen")
    if not isinstance(mic, bool) or not isinstance(cam, bool):
        raise SignalError("A media state has true or false for mic and cam.")
    if screen is not None and (not isinstance(screen, str) or not STREAM_ID.fullmatch(screen)):
        raise SignalError("A media state's screen is its stream's id or null.")
    return MediaState(mic=mic, cam=cam, screen=screen)


class RateLimiter:
    """A token bucket: `burst` messages at once, `rate` a second after that (one per socket)."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: float = RATE_BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# --- ICE servers ----------------------------------------------------------------------------------


def turn_credentials(*, secret: str, user_id: int | str, expires_at: int) -> tuple[str, str]:
    """coturn's REST API scheme (use-auth-secret): username "<expiry unix time>:<user id>", and the
    credential base64(HMAC-SHA1(secret, username)). coturn refuses it after the expiry."""
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(*, user_id: int, now: float | None = None) -> list[dict[str, Any]]:
    """RTCIceServer entries for a page: the STUN list, and TURN with credentials valid for
    MESH_TURN_TTL_SECONDS. Empty by default (host candidates suffice on one network)."""
    servers: list[dict[str, Any]] = []
    if settings.MESH_STUN_URLS:
        servers.append({"urls": list(settings.MESH_STUN_URLS)})
    if settings.MESH_TURN_URLS and settings.MESH_TURN_SECRET:
        expires = int((time.time() if now is None else now) + settings.MESH_TURN_TTL_SECONDS)
        username, credential = turn_credentials(secret=settings.MESH_TURN_SECRET, user_id=user_id, expires_at=expires)
        servers.append({"urls": list(settings.MESH_TURN_URLS), "username": username, "credential": credential})
    return servers


# --- The roster -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """One socket in a session's mesh. `channel` is private: never sent to a browser."""

    peer: str
    user_id: int
    name: str
    role: str
    sends: bool
    channel: str
    mic: bool = False
    cam: bool = False
    screen: str | None = None
    speaker: bool = False  # a broadcast's viewer invited to speak (meetings.models.Speaker)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        del data["channel"]
        return data


def _peer_from(raw: bytes | str | None) -> Peer | None:
    if raw is None:
        return None
    try:
        return Peer(**json.loads(raw))
    except (ValueError, TypeError):
        return None


_SET_TTL_SECONDS = 24 * 60 * 60
FULL_HINT_SECONDS = 1.0  # Roster.known_full
# A join in one round trip, so a storm of joins cannot push a mesh past its cap and a join past it
# costs one small reply: ids whose key expired are dropped; a peer already in (a re-registration) is
# always let back; a newcomer is admitted below the cap, sending if it asks to and is a leader or the
# senders are below their limit. Returns {admitted, sends, everyone else's peer JSON...}.
# KEYS: the session's set, this peer's key. ARGV: peer id, max peers, wants to send (1/0), leader
# (1/0), sender limit, peer key prefix, its JSON sending, its JSON not sending, key TTL, set TTL.
# (Peer keys are built from the prefix: one Redis, not a cluster.)
_JOIN = """
local others, senders, present = {}, 0, false
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', ARGV[6] .. id)
  if not raw then
    redis.call('SREM', KEYS[1], id)
  elseif id == ARGV[1] then
    present = true
  else
    table.insert(others, raw)
  end
end
if not present and #others >= tonumber(ARGV[2]) then return {0, 0} end
for _, raw in ipairs(others) do
  if cjson.decode(raw).sends == true then senders = senders + 1 end
end
local sends = ARGV[3] == '1' and (ARGV[4] == '1' or senders < tonumber(ARGV[5]))
redis.call('SET', KEYS[2], sends and ARGV[7] or ARGV[8], 'EX', tonumber(ARGV[9]))
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
local reply = {1, sends and 1 or 0}
for _, raw in ipairs(others) do table.insert(reply, raw) end
return reply
"""


class Roster:
    """The peers of each session, in Redis: a set of peer ids and one expiring key per peer.

    Every method is async (redis.asyncio on the socket's own event loop); the room socket treats a
    failure (Redis down) as an empty roster, so a join never fails because of the mesh.
    """

    def __init__(self) -> None:
        self._clients: dict[int, Any] = {}
        # Session id -> until when (monotonic) a socket waiting for a place is told the mesh is full
        # without asking Redis: in a 1,000-person room, 975 sockets would each run the join script on
        # joining (a fifth of a join's server time in a storm, bench/fanout_bench.py) and at every
        # heartbeat, only to hear "full".
        self._full_until: dict[int, float] = {}

    def known_full(self, session_id: int) -> bool:
        """This process heard "full" for the session less than FULL_HINT_SECONDS ago and let nobody
        out since. A socket waiting for a place (joining, or past the cap at its heartbeat) may take it
        for the answer: the first to try once the moment is over asks Redis (and renews it), so a place
        freed by a socket of another process is taken within about that long by someone waiting."""
        until = self._full_until.get(session_id)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self._full_until[session_id]
        return False

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()  # a client per event loop (tests run several)
        client = self._clients.get(id(loop))
        if client is None:
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            self._clients = {id(loop): client}
        return client

    @staticmethod
    def _set_key(session_id: int) -> str:
        return f"{settings.DEPLOYMENT_NAMESPACE}:mesh:{session_id}:peers"

    @staticmethod
    def _peer_key(session_id: int, peer_id: str) -> str:
        return f"{settings.DEPLOYMENT_NAMESPACE}:mesh:{session_id}:peer:{peer_id}"

    @staticmethod
    def ttl() -> int:
        # Several heartbeats long (a loaded browser or server delays them), and never under a
        # minute: the expiry is for a socket whose server died, not for a slow one.
        return int(max(3 * (settings.PRESENCE_TTL_SECONDS + settings.HEARTBEAT_SECONDS), 60))

    async def peers(self, session_id: int) -> list[Peer]:
        """Everyone in the session now; ids whose key expired are dropped from the set."""
        redis = self._redis()
        ids = sorted(member.decode() for member in await redis.smembers(self._set_key(session_id)))
        if not ids:
            return []
        raws = await redis.mget([self._peer_key(session_id, peer_id) for peer_id in ids])
        gone = [peer_id for peer_id, raw in zip(ids, raws, strict=True) if raw is None]
        if gone:
            await redis.srem(self._set_key(session_id), *gone)
        return [peer for peer in map(_peer_from, raws) if peer is not None]

    async def join(
        self, session_id: int, peer: Peer, *, sender_limit: int, leader: bool, max_peers: int
    ) -> tuple[Peer | None, list[Peer]]:
        """Add `peer` and return it (its `sends` off past the sender limit) with everyone else; None
        and nobody when the mesh already holds `max_peers` (a full mesh's cost grows with the square
        of its size: a large room waits for a media server, docs/decisions/0032).

        Hosts and moderators always send (a meeting must hear its host); they count towards the limit.
        """
        reply = await self._redis().eval(
            _JOIN,
            2,
            self._set_key(session_id),
            self._peer_key(session_id, peer.peer),
            peer.peer,
            max_peers,
            int(peer.sends),
            int(leader),
            sender_limit,
            self._peer_key(session_id, ""),
            json.dumps(asdict(replace(peer, sends=True))),
            json.dumps(asdict(replace(peer, sends=False))),
            self.ttl(),
            _SET_TTL_SECONDS,
        )
        if not reply[0]:
            self._full_until[session_id] = time.monotonic() + FULL_HINT_SECONDS
            return None, []
        others = sorted((p for p in map(_peer_from, reply[2:]) if p is not None), key=lambda p: p.peer)
        return replace(peer, sends=bool(reply[1])), others

    async def put(self, session_id: int, peer: Peer) -> None:
        redis = self._redis()
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(self._peer_key(session_id, peer.peer), json.dumps(asdict(peer)), ex=self.ttl())
            pipe.sadd(self._set_key(session_id), peer.peer)
            pipe.expire(self._set_key(session_id), _SET_TTL_SECONDS)
            await pipe.execute()

    async def get(self, session_id: int, peer_id: str) -> Peer | None:
        return _peer_from(await self._redis().get(self._peer_key(session_id, peer_id)))

    async def touch(self, session_id: int, peer_id: str) -> bool:
        """Keep the peer's key; False if it had expired (the socket should register again)."""
        return bool(await self._redis().expire(self._peer_key(session_id, peer_id), self.ttl()))

    async def leave(self, session_id: int, peer_id: str) -> None:
        self._full_until.pop(session_id, None)  # a place frees: the next one waiting asks Redis
        redis = self._redis()
        async with redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._peer_key(session_id, peer_id))
            pipe.srem(self._set_key(session_id), peer_id)
            await pipe.execute()


roster = Roster()
