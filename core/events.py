"""Every realtime event a browser receives, and the one way to send them.

The catalogue: each event is a frozen dataclass whose `TYPE` is the `type` field the browser
switches on and whose fields are the rest of the JSON object (`static/js/room/` reads exactly
these). Apps build events from these classes only, and send them with `send_on_commit` to a
group named from ids (`room`, `leaders`, `participants`, `user`), never from user text. The
room's socket forwards what it receives unchanged, encoded once per send rather than once per
socket (a 1,000-person room would otherwise encode 1,000 copies).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol
from weakref import WeakSet

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
# The one channel-layer message type: RoomConsumer.room_event forwards its `text` to the browser.
CHANNEL_MESSAGE_TYPE = "room.event"
# Never forwarded to a browser: "who may be here changed; ask meetings.permissions again"
# (RoomConsumer.room_access_changed). `room_id`: the room concerned, or None for every room.
ACCESS_CHANGED_MESSAGE_TYPE = "room.access_changed"


# --- Groups: named from ids only -------------------------------------------------------------


def room_group(room_id: int) -> str:
    """Everyone in the room."""
    return f"room.{room_id}"


def leaders_group(room_id: int) -> str:
    """Hosts and moderators of the room."""
    return f"room.{room_id}.leaders"


def participants_group(room_id: int) -> str:
    """Everyone in the room who is not a host or moderator."""
    return f"room.{room_id}.participants"


def user_group(user_id: int) -> str:
    """Every open room socket of one person (for "your file is available")."""
    return f"user.{user_id}"


# --- The catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    TYPE: ClassVar[str] = ""

    def payload(self) -> Payload:
        return {"type": self.TYPE, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


@dataclass(frozen=True)
class State(Event):
    """Sent once on connect: who you are here and the current state (late joiners need no history)."""

    TYPE: ClassVar[str] = "state"
    role: str
    is_leader: bool
    user_id: int
    session: Payload  # {"id", "state", "broadcast"}
    recording: Payload | None  # a RecordingState.recording snapshot
    server_time: float
    heartbeat_seconds: float
    # Issue 12: this person's consent for the running recording that asks for it, {"uid", "answer"}
    # (answer "agree", "decline" or None: not answered yet, which counts as declining); else None.
    consent: Payload | None = None
    # Issue 11: what is presented from Media and Files now (PresentationState.presentation), or None.
    presentation: Payload | None = None


@dataclass(frozen=True)
class SessionState(Event):
    """A broadcast went from preview to live."""

    TYPE: ClassVar[str] = "session"
    state: str


@dataclass(frozen=True)
class SessionEnded(Event):
    """The session ended for everyone; the socket is closed after it (code 4000)."""

    TYPE: ClassVar[str] = "session_ended"
    reason: str
    text: str


@dataclass(frozen=True)
class RecordingState(Event):
    """The room's recording changed state. `recording`: uid, state, active, capturing, elapsed,
    started_by, stop_reason, progress, segment_seconds (recordings.selectors.snapshot)."""

    TYPE: ClassVar[str] = "recording"
    recording: Payload | None


@dataclass(frozen=True)
class Progress(Event):
    """Processing progress, to hosts and moderators; a state other than "processing" ends the bar."""

    TYPE: ClassVar[str] = "progress"
    uid: str
    progress: int
    state: str


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice(Event):
    """A text to show; `code` names it in its app's `notices.TEXTS` (or a reason the server gives)."""

    TYPE: ClassVar[str] = "notice"
    code: str
    text: str
    level: str = Level.INFO


class NoticeTexts(dict[str, str]):
    """One app's notice texts, code -> the words people read (SPEC.md's, where it gives them).

    Each text is written once, in the `notices.py` of the app whose events say it; templates and
    the room's JavaScript get them all through `rooms.notices`.
    """

    def text(self, code: str) -> str:
        return self[code]  # an unknown code is a programming error: it raises

    def notice(self, code: str, *, level: str = Level.INFO) -> Notice:
        return Notice(code=code, text=self[code], level=level)


@dataclass(frozen=True)
class FileAvailable(Event):
    """A recording's file is ready: to each person told (their own group), with a link if they have access."""

    TYPE: ClassVar[str] = "file_available"
    recording_id: int
    entry_id: int | None
    url: str | None
    text: str
    notice_id: int
    seen_url: str


@dataclass(frozen=True)
class Consent(Event):
    """This person's answer to "may we record you?" for one recording, to all their own sockets."""

    TYPE: ClassVar[str] = "consent"
    recording_uid: str
    answer: str  # "agree" or "decline"
    text: str  # what it means for them, to show


@dataclass(frozen=True)
class PresentationState(Event):
    """What is presented from Media and Files, to everyone in the room, at start and on every change.

    `presentation` (meetings.selectors.presentation_snapshot): id, kind ("image", "pdf", "video"), entry_id,
    title, presenter_id, presenter, page, page_count, position, playing, at (server epoch seconds: the
    video is at `position` at `at` and advances from it while `playing`), server_time; None: presenting stopped.
    """

    TYPE: ClassVar[str] = "presentation"
    presentation: Payload | None


# --- The live mesh (issue 11): who is here, and WebRTC signalling between them ------------------
# A peer is {"peer", "user_id", "name", "role", "sends", "mic", "cam", "screen"}: one open socket
# (`peer` is its random id, never the channel name); `sends`: it may send camera and microphone.


@dataclass(frozen=True)
class Roster(Event):
    """To a socket that joined: its own peer id, whether it sends, and everyone else in the session."""

    TYPE: ClassVar[str] = "roster"
    peer_id: str
    sends: bool
    peers: list[Payload]


@dataclass(frozen=True)
class PeerJoined(Event):
    """Someone's socket joined the session (or changed role): add or replace their peer."""

    TYPE: ClassVar[str] = "peer_joined"
    peer: Payload


@dataclass(frozen=True)
class PeerLeft(Event):
    """A socket left the session: its tile and its peer connection go."""

    TYPE: ClassVar[str] = "peer_left"
    peer_id: str


@dataclass(frozen=True)
class PeerState(Event):
    """A peer's microphone, camera or shared screen changed (`screen`: its stream's id, or None)."""

    TYPE: ClassVar[str] = "peer_state"
    peer_id: str
    mic: bool
    cam: bool
    screen: str | None


@dataclass(frozen=True)
class MeshSignal(Event):
    """WebRTC signalling relayed from one peer to another: an offer or answer (`sdp`) or a candidate."""

    TYPE: ClassVar[str] = "signal"
    from_peer: str
    kind: str  # "offer" | "answer" | "candidate"
    sdp: str | None = None
    candidate: Payload | None = None


@dataclass(frozen=True)
class MuteRequest(Event):
    """A host or moderator muted this person's microphone; they may unmute themselves."""

    TYPE: ClassVar[str] = "mute_request"
    by: str  # the name of who muted them
    text: str


@dataclass(frozen=True)
class ClockProbe(Event):
    """The server's clock; the browser answers with `clock_reply` (server-measured offsets). On joining
    the `State` serves as the first probe: the browser answers its `server_time` the same way."""

    TYPE: ClassVar[str] = "clock_probe"
    server_time: float


@dataclass(frozen=True)
class Ack(Event):
    """A command was carried out; `id` is the browser's own; `result` fields are merged in."""

    TYPE: ClassVar[str] = "ack"
    id: int | str | None
    command: str
    result: Payload = field(default_factory=dict)

    def payload(self) -> Payload:
        return {"type": self.TYPE, "id": self.id, "command": self.command, **self.result}


@dataclass(frozen=True)
class Error(Event):
    """A command or message was refused; `error` is safe to show."""

    TYPE: ClassVar[str] = "error"
    error: str
    id: int | str | None = None


CATALOGUE: tuple[type[Event], ...] = (
    State, SessionState, SessionEnded, RecordingState, Progress, Notice, FileAvailable, Consent, ClockProbe, Ack,
    Error, PresentationState, Roster, PeerJoined, PeerLeft, PeerState, MeshSignal, MuteRequest,
)  # fmt: skip


# --- Sending ----------------------------------------------------------------------------------


def channel_message(event: Event) -> Payload:
    payload = event.payload()
    return {"type": CHANNEL_MESSAGE_TYPE, "payload": payload, "text": json.dumps(payload)}


# A Redis restart leaves the layer's pooled connection dead: the next publish fails once and the
# pool then reconnects. Each message is retried with back-off for a few seconds, so a restart or a
# short outage delays a notice instead of dropping it (issue 10: 4 of 4 first sends were lost).
SEND_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0)
# Per attempt: an unreachable (not refusing) Redis must not hold the sender for ever.
SEND_ATTEMPT_TIMEOUT = 2.0
RETRYABLE_SEND_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)


async def publish(layer: Any, group: str, message: Payload) -> None:
    await _with_retries(lambda: layer.group_send(group, message), group)


async def send_to_channels(layer: Any, channels: Collection[str], message: Payload) -> None:
    """One message to each of a few sockets (the mesh's peers), concurrently, each retried like
    `publish`: a handful of direct sends instead of a group message every socket of a room hears."""
    await asyncio.gather(
        *(_with_retries(functools.partial(layer.send, channel, message), channel) for channel in channels)
    )


async def _with_retries(send: Callable[[], Awaitable[None]], where: str) -> None:
    for delay in (*SEND_RETRY_DELAYS, None):
        try:
            await asyncio.wait_for(send(), SEND_ATTEMPT_TIMEOUT)
            return
        except RETRYABLE_SEND_ERRORS as exc:
            if delay is None:
                raise
            logger.warning("channel layer send to %s failed (%s); retrying in %.2f s", where, exc, delay)
            await asyncio.sleep(delay)


def _publish_now(messages: list[tuple[str, Payload]], what: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        # One at a time and in order: a retried message is never overtaken by the next one.
        for group, message in messages:
            await publish(layer, group, message)

    def send() -> None:
        try:
            async_to_sync(send_all)()
        except Exception:  # a notice lost to a long Redis outage must never undo or crash the state change
            logger.exception("could not send %s", what)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send()
        return
    # Sync code running inside an event loop's thread (a test driving a browser, a script):
    # async_to_sync refuses that thread, so the send goes from a short-lived one.
    sender = threading.Thread(target=send, name="event-sender")
    sender.start()
    sender.join()


def _send_now(sends: list[tuple[str, Event]]) -> None:
    _publish_now([(group, channel_message(event)) for group, event in sends], [event.TYPE for _, event in sends])


def send_on_commit(group: str, event: Event) -> None:
    """Send once the surrounding transaction commits, so nobody hears of a change that rolled back."""
    transaction.on_commit(lambda: _send_now([(group, event)]))


def send_many_on_commit(sends: list[tuple[str, Event]]) -> None:
    """Several events after commit, in order, in one trip to the channel layer."""
    if sends:
        transaction.on_commit(lambda: _send_now(list(sends)))


# --- Access changes: sockets re-ask the room policy -------------------------------------------


def announce_access_change(*, user_ids: Collection[int] = (), room_id: int | None, whole_room: bool = False) -> None:
    """After commit, ask open room sockets to re-check who they are in the room (meetings announces).

    To these people's sockets (their `user` group) in `room_id`, or in every room if it is None
    (a person deactivated); `whole_room`: every socket in `room_id` (its owner or kind changed, it
    was deleted). Each socket asks `meetings.permissions` again and closes, or changes its role.
    """
    message = {"type": ACCESS_CHANGED_MESSAGE_TYPE, "room_id": room_id}
    groups = [user_group(user_id) for user_id in sorted(set(user_ids))]
    if whole_room and room_id is not None:
        groups.append(room_group(room_id))
    if groups:
        transaction.on_commit(lambda: _publish_now([(g, message) for g in groups], [ACCESS_CHANGED_MESSAGE_TYPE]))


# --- Subscriptions: sockets that may have missed events ---------------------------------------


class Resyncable(Protocol):
    async def resync(self) -> None: ...


class SubscriptionWatch:
    """Tells this process's sockets when its channel-layer subscription was re-established.

    Redis pub/sub keeps nothing: events published while the subscriber reconnects after a Redis
    restart (about a second) are lost to every socket of the process. redis-py re-subscribes on
    reconnect; this hooks that reconnect (a connect callback on the subscriber's connection) and
    asks every socket to resync, i.e. send the browser the current state, as a reconnect would.
    Written against channels_redis 4.3's RedisPubSubChannelLayer (pinned); a layer without those
    internals is simply not watched (tests/realtime/test_redis_restart.py would fail).
    """

    def __init__(self) -> None:
        self._sockets: WeakSet[Any] = WeakSet()
        self._pending: asyncio.Task[None] | None = None
        self._again = False  # reconnected again while a resync ran: run it once more

    def watch(self, layer: Any, socket: Resyncable) -> None:
        """Call after the socket subscribed (its connection exists); idempotent per connection."""
        self._sockets.add(socket)
        for connection in self._subscriber_connections(layer):
            # Kept as a weak method by redis-py, so it must be a bound method of this long-lived object.
            connection.register_connect_callback(self._reconnected)

    def forget(self, socket: Resyncable) -> None:
        self._sockets.discard(socket)

    @staticmethod
    def _subscriber_connections(layer: Any) -> list[Any]:
        get_layer: Callable[[], Any] | None = getattr(layer, "_get_layer", None)
        if get_layer is None:
            return []
        shards = getattr(get_layer(), "_shards", [])
        pubsubs = [getattr(shard, "_pubsub", None) for shard in shards]
        return [p.connection for p in pubsubs if p is not None and getattr(p, "connection", None) is not None]

    def _reconnected(self, connection: Any) -> None:
        # Runs inside redis-py's reconnect, after its own re-subscribe; the resync must not block it.
        logger.warning("channel layer subscription re-established; resyncing %d sockets", len(self._sockets))
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._resync_all())
        else:
            self._again = True

    async def _resync_all(self) -> None:
        while True:
            self._again = False
            for socket in list(self._sockets):
                try:
                    await socket.resync()
                except Exception:  # one socket's failure must not leave the others stale
                    logger.exception("resync failed")
            if not self._again:
                return


subscription_watch = SubscriptionWatch()
