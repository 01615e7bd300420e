"""The room's websocket: one per browser tab. Thin: authorise, validate, call a service.

An edge (DESIGN.md "One direction"): it composes meetings (presence, sessions) and recordings
(record, stop). Every command is authorised on the server by the room policy
(`meetings.permissions`), re-asked per command so a host demoted mid-session loses the controls
at once. What the browser receives is the event catalogue of `core.events`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from core import events
from core.events import Ack, ClockProbe, Error, Event, Payload, State
from meetings import permissions, selectors, services
from meetings.models import LiveSession, Room, SessionRole, User
from meetings.permissions import RoomAction
from meetings.presence import batcher
from recordings import events as recording_events
from recordings import selectors as recording_selectors
from recordings import services as recording_services
from recordings.models import Recording

logger = logging.getLogger(__name__)

# 4403: the close code a browser sees when the server refuses the socket before accept.
CLOSE_NOT_ALLOWED = 4403
CLOSE_SESSION_ENDED = 4000
MAX_MESSAGE_BYTES = 4096
# Clock probes on connect and the first heartbeats give the offset; after that an occasional one
# follows drift. Probing on every heartbeat cost 1,000 sockets a database write each.
EARLY_PROBES = 3
PROBE_EVERY = 30


def _is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number (bool is an int to Python, not to JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _join_sync(room: Room, user: User, role: SessionRole, channel_name: str, *, fresh: bool) -> dict[str, Any]:
    session = services.join_session(room=room, user=user, role=role, channel_name=channel_name, fresh=fresh)
    recording = recording_selectors.active_recording(room_id=room.pk)
    return {"session": session, "recording": recording_events.snapshot(recording)}


@database_sync_to_async
def _enter(user: Any, room_id: int, channel_name: str) -> tuple[Room, SessionRole, dict[str, Any]] | None:
    """Authorise and join in one trip to the DB thread (a 1,000-person room joins through it)."""
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None or user is None:
        return None
    role = permissions.session_role(user, room)
    if role is None or not permissions.role_can(role, RoomAction.JOIN, room):
        return None
    return room, role, _join_sync(room, user, role, channel_name, fresh=True)


@database_sync_to_async
def _join(room: Room, user: User, role: SessionRole, channel_name: str) -> dict[str, Any]:
    return _join_sync(room, user, role, channel_name, fresh=False)


@database_sync_to_async
def _allowed(user: User, action: RoomAction, room: Room) -> bool:
    return permissions.can(user, action, room)


Command = Callable[["RoomConsumer", Payload, Any], Awaitable[None]]


class RoomConsumer(AsyncJsonWebsocketConsumer):
    room: Room
    role: SessionRole
    user: User
    groups_joined: list[str]

    # The commands a browser may send, each with the room action it needs (None: any member).
    COMMANDS: dict[str, RoomAction | None] = {
        "heartbeat": None,
        "clock_reply": None,
        "start_recording": RoomAction.RECORD,
        "stop_recording": RoomAction.STOP_RECORDING,
        "end_session": RoomAction.END_SESSION,
        "go_live": RoomAction.GO_LIVE,
    }

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale DB connections before every message, on the one thread that runs
        # all consumers' DB work, so 1,000 notice copies queued behind heartbeats. Every DB call
        # here goes through database_sync_to_async, which does that closing itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.groups_joined = []
        self.heartbeats = 0
        user = self.scope.get("user")
        room_id = self.scope["url_route"]["kwargs"]["room_id"]
        entered = await _enter(user, room_id, self.channel_name)
        if entered is None:
            # Refused before accept: anonymous, unknown room and no access look the same.
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        room, role, joined = entered
        self.room, self.role, self.user = room, role, user
        leader = permissions.is_leader(role)
        for group in (
            events.room_group(room.pk),
            events.leaders_group(room.pk) if leader else events.participants_group(room.pk),
            events.user_group(user.pk),
        ):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        session: LiveSession = joined["session"]
        recording: Payload | None = joined["recording"]
        await self._send(
            State(
                role=str(role),
                is_leader=leader,
                user_id=user.pk,
                session={"id": session.pk, "state": session.state, "broadcast": room.mode == Room.Mode.BROADCAST},
                recording=recording,
                server_time=time.time(),
                heartbeat_seconds=settings.HEARTBEAT_SECONDS,
            )
        )
        if recording is not None:  # a late joiner is told, not only shown
            await self._send(recording_events.late_joiner_notice(recording))
        await self._send(ClockProbe(server_time=time.time()))

    async def disconnect(self, code: int) -> None:
        batcher.forget(self.channel_name)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.groups_joined:
            await database_sync_to_async(services.leave_session)(channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            await self._error("Messages must be JSON text of at most 4 KB.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self._error("That message is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        command = content.get("type") if isinstance(content, dict) else None
        if not isinstance(command, str) or command not in self.COMMANDS:
            await self._error("Unknown command.", ref=content.get("id") if isinstance(content, dict) else None)
            return
        ref = content.get("id") if isinstance(content.get("id"), int | str) else None
        action = self.COMMANDS[command]
        if action is not None and not await _allowed(self.user, action, self.room):
            await self._error(permissions.refusal(action, self.room), ref=ref)
            return
        try:
            await getattr(self, f"cmd_{command}")(content, ref)
        except recording_services.RecordingError as exc:
            await self._error(str(exc), ref=ref)
        except Exception:  # the socket must outlive any one bad command
            logger.exception("command %s failed in room %s", command, self.room.pk)
            await self._error("Something went wrong; please try again.", ref=ref)

    # --- commands ---------------------------------------------------------------------------

    async def cmd_heartbeat(self, content: Payload, ref: Any) -> None:
        batcher.touch(self.channel_name, self)
        self.heartbeats += 1
        if self.heartbeats <= EARLY_PROBES or self.heartbeats % PROBE_EVERY == 0:
            await self._send(ClockProbe(server_time=time.time()))

    async def rejoin(self) -> None:
        """Our presence expired while the tab slept: register again rather than vanish."""
        await _join(self.room, self.user, self.role, self.channel_name)

    async def cmd_clock_reply(self, content: Payload, ref: Any) -> None:
        server_sent, client_time = content.get("server_time"), content.get("client_time")
        if not (_is_number(server_sent) and _is_number(client_time)):
            await self._error("A clock reply needs numeric server_time and client_time.", ref=ref)
            return
        await database_sync_to_async(services.record_clock_probe)(
            channel_name=self.channel_name,
            server_sent=float(server_sent),
            client_time=float(client_time) / 1000.0,
            server_received=time.time(),
        )

    async def cmd_start_recording(self, content: Payload, ref: Any) -> None:
        recording, created = await database_sync_to_async(recording_services.start_recording)(
            room=self.room, user=self.user
        )
        await self._send(Ack(id=ref, command="start_recording", result={"created": created, "uid": str(recording.uid)}))

    async def cmd_stop_recording(self, content: Payload, ref: Any) -> None:
        stopped = await database_sync_to_async(recording_services.stop_active_recording)(
            room_id=self.room.pk, reason=Recording.StopReason.STOPPED_BY_HOST, by=self.user
        )
        await self._send(Ack(id=ref, command="stop_recording", result={"stopped": stopped is not None}))

    async def cmd_end_session(self, content: Payload, ref: Any) -> None:
        # Broadcast rooms: {"close_room": true} closes the room completely (its recording appears).
        close_room = content.get("close_room") is True
        session = await database_sync_to_async(selectors.open_session)(room=self.room)
        ended = False
        if session is not None:
            ended = await database_sync_to_async(services.end_session)(
                session=session, reason=LiveSession.EndReason.ENDED_BY_HOST, by=self.user, close_room=close_room
            )
        await self._send(Ack(id=ref, command="end_session", result={"ended": ended}))

    async def cmd_go_live(self, content: Payload, ref: Any) -> None:
        session = await database_sync_to_async(selectors.open_session)(room=self.room)
        live = session is not None and await database_sync_to_async(services.go_live)(session=session)
        await self._send(Ack(id=ref, command="go_live", result={"live": live}))

    # --- events from the channel layer --------------------------------------------------------

    async def room_event(self, event: dict[str, Any]) -> None:
        """Every event another part of the product sends (core.events), forwarded as encoded."""
        await self.send(text_data=event["text"])
        if event["payload"].get("type") == "session_ended":
            await self.close(code=CLOSE_SESSION_ENDED)

    # --- helpers ------------------------------------------------------------------------------

    async def _send(self, event: Event) -> None:
        await self.send_json(event.payload())

    async def _error(self, message: str, ref: Any = None) -> None:
        await self._send(Error(error=message, id=ref))
