"""Every realtime event a browser receives, and the one way to send them.

The catalogue: each event is a frozen dataclass whose `TYPE` is the `type` field the browser
switches on and whose fields are the rest of the JSON object (`static/js/room/` reads exactly
these). Apps build events from these classes only, and send them with `send_on_commit` to a
group named from ids (`room`, `leaders`, `participants`, `user`), never from user text. The
room's socket forwards what it receives unchanged, encoded once per send rather than once per
socket (a 1,000-person room would otherwise encode 1,000 copies).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core import notices

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
# The one channel-layer message type: RoomConsumer.room_event forwards its `text` to the browser.
CHANNEL_MESSAGE_TYPE = "room.event"


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


@dataclass(frozen=True)
class Notice(Event):
    """A text to show; `code` names it in core.notices (or a reason the server gives)."""

    TYPE: ClassVar[str] = "notice"
    code: str
    text: str
    level: str = notices.Level.INFO

    @classmethod
    def of(cls, code: str, *, level: str = notices.Level.INFO) -> Notice:
        return cls(code=code, text=notices.text(code), level=level)


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
class ClockProbe(Event):
    """The server's clock; the browser answers with `clock_reply` (server-measured offsets)."""

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
    State, SessionState, SessionEnded, RecordingState, Progress, Notice, FileAvailable, ClockProbe, Ack, Error,
)  # fmt: skip


# --- Sending ----------------------------------------------------------------------------------


def channel_message(event: Event) -> Payload:
    payload = event.payload()
    return {"type": CHANNEL_MESSAGE_TYPE, "payload": payload, "text": json.dumps(payload)}


def _send_now(sends: list[tuple[str, Event]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, event in sends:
            await layer.group_send(group, channel_message(event))

    try:
        async_to_sync(send_all)()
    except Exception:  # a notice lost to a Redis blip must never undo or crash the state change
        logger.exception("could not send %s", [event.TYPE for _, event in sends])


def send_on_commit(group: str, event: Event) -> None:
    """Send once the surrounding transaction commits, so nobody hears of a change that rolled back."""
    transaction.on_commit(lambda: _send_now([(group, event)]))


def send_many_on_commit(sends: list[tuple[str, Event]]) -> None:
    """Several events after commit, in order, in one trip to the channel layer."""
    if sends:
        transaction.on_commit(lambda: _send_now(list(sends)))
