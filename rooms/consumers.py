"""The room's websocket: one per browser tab. Thin: authorise, validate, call a service.

An edge (DESIGN.md "One direction"): it composes meetings (presence, sessions) and recordings
(record, stop, pause, resume). Every command is authorised on the server by the room policy
(`meetings.permissions`), re-asked per command so a host demoted mid-session loses the controls
at once. What the browser receives is the event catalogue of `core.events`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from core import events
from core.events import (
    Ack,
    ClockProbe,
    Error,
    Event,
    MeshSignal,
    MuteRequest,
    Payload,
    PeerJoined,
    PeerLeft,
    PeerState,
    Roster,
    SessionEnded,
    State,
)
from meetings import notices as meeting_notices
from meetings import permissions, selectors, services, signalling
from meetings.models import LiveSession, Room, SessionRole, User
from meetings.permissions import RoomAction
from meetings.presence import batcher
from recordings import events as recording_events
from recordings import selectors as recording_selectors
from recordings import services as recording_services
from recordings.models import ConsentAnswer, Recording
from rooms import joins
from rooms.presenting import PresentingCommands

logger = logging.getLogger(__name__)

# 4403: the close code a browser sees when the server refuses the socket before accept.
CLOSE_NOT_ALLOWED = 4403
CLOSE_SESSION_ENDED = 4000
# The channel layer (Redis) could not be reached while joining: room.js retries with back-off, as
# for any code but 4403 and 4000 (RFC 6455's 1013 "try again later", which a server may not send).
CLOSE_TRY_AGAIN_LATER = 4013
# Joining the groups through a Redis restart: a few tries, then the browser's own back-off takes over.
GROUP_ADD_RETRY_DELAYS = (0.1, 0.3, 0.6, 1.0)
MAX_MESSAGE_BYTES = 4096
# A WebRTC offer or answer is larger (meetings.signalling.MAX_SDP_CHARS): only a valid "signal"
# message may be, up to this; anything else past 4 KB gets the 4 KB error as before.
MAX_SIGNAL_BYTES = 32 * 1024
PEER_CACHE_SECONDS = 2.0  # how long a socket relays to a peer without asking the roster again
# The State on connect (the browser answers its server_time as a clock probe: one message less per
# socket in a join storm) and probes at the first heartbeats give the offset; after that an occasional
# one follows drift. Probing on every heartbeat cost 1,000 sockets a database write each.
EARLY_PROBES = 3
PROBE_EVERY = 30


def _is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number (bool is an int to Python, not to JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _join_sync(room: Room, user: User, role: SessionRole, channel_name: str, *, fresh: bool) -> dict[str, Any]:
    # A socket whose presence expired joins again here; new sockets join in batches: keep _join_batch in step.
    session = services.join_session(room=room, user=user, role=role, channel_name=channel_name, fresh=fresh)
    if fresh and permissions.is_leader(role):
        # A room that records automatically starts when its first host or moderator joins (issue 12).
        recording_services.start_automatic_recording(room=room, user=user)
    recording = recording_selectors.active_recording(room_id=room.pk)
    return {
        "session": session,
        "recording": recording_events.snapshot(recording),
        "consent": _consent_of(recording, user),
        "presentation": selectors.presentation_snapshot_for_room(room_id=room.pk),  # a late joiner lands on it
    }


def _consent_of(recording: Recording | None, user: User) -> Payload | None:
    """The person's answer for a running recording that asks for consent (their State's `consent`)."""
    answer = recording_services.consent_answer(recording=recording, user_id=user.pk)
    return recording_events.consent_state(recording, answer)


def _member(user: User | None, room_id: int) -> tuple[Room, SessionRole] | None:
    """The room and `user`'s role in it, read afresh, if the room policy lets them in at all."""
    room = Room.objects.select_related("channel").filter(pk=room_id).first()
    if room is None or user is None:
        return None
    role = permissions.session_role(user, room)
    if role is None or not permissions.role_can(role, RoomAction.JOIN, room):
        return None
    return room, role


def _join_batch(room: Room, session: LiveSession, people: list[tuple[User, SessionRole]]) -> list[dict[str, Any]]:
    """`_join_sync(fresh=True)`'s answer for each socket of a join batch (rooms/joins.py), the room's reads
    made once: the joins themselves (policy, presence) are done in bulk by the batch."""
    leaders = [user for user, role in people if permissions.is_leader(role)]
    if leaders:  # a room that records automatically starts when its first host or moderator joins (issue 12)
        recording_services.start_automatic_recording(room=room, user=leaders[0])
    recording = recording_selectors.active_recording(room_id=room.pk)
    snapshot = recording_events.snapshot(recording)
    # A late joiner lands on what is presented; the batch's session is the room's open one.
    presentation = selectors.presentation_snapshot(selectors.current_presentation(session_id=session.pk))
    viewers = [user.pk for user, role in people if not permissions.is_leader(role)]
    speakers = selectors.speaker_ids(room=room, session_id=session.pk, user_ids=viewers)
    return [
        {
            "session": session,
            "recording": snapshot,
            "consent": _consent_of(recording, user),
            "presentation": presentation,
            "speaker": user.pk in speakers,
        }
        for user, _ in people
    ]


# Joins in batches: one database trip for all the sockets that connect meanwhile (a 1,000-person room).
_joins = joins.JoinBatcher(welcome=_join_batch)


@database_sync_to_async
def _join(room: Room, user: User, role: SessionRole, channel_name: str) -> dict[str, Any]:
    return _join_sync(room, user, role, channel_name, fresh=False)


def _set_speaker(room: Room, user_id: int, speaker: bool, by: User) -> bool:
    session = selectors.open_session(room=room)
    user = User.objects.filter(pk=user_id).first()
    if session is None or user is None:
        raise services.SpeakerError("That person is not in this session.")
    return services.set_speaker(session=session, user=user, speaker=speaker, by=by)


def _answer_consent(room: Room, user: User, answer: str, uid: str | None) -> ConsentAnswer:
    """The answer goes to the room's running recording; one named by the browser must be that one
    (a dialog left open from a recording that has since stopped answers nothing)."""
    recording = recording_selectors.active_recording(room_id=room.pk)
    if recording is None or not recording.is_active:
        raise recording_services.RecordingError("There is no recording running to answer for.")
    if uid is not None and uid != str(recording.uid):
        raise recording_services.RecordingError("That recording is no longer running.")
    return recording_services.answer_consent(recording=recording, user=user, answer=answer)


@database_sync_to_async
def _allowed(user: User, action: RoomAction, room: Room) -> bool:
    return permissions.can(user, action, room)


@dataclass
class Reassessed:
    """Who a socket's person is in its room now, from fresh rows (`_reassess`)."""

    user: User
    room: Room
    role: SessionRole
    session: LiveSession | None  # None: the session ended (an event the socket may have missed)
    ended: LiveSession | None  # then the session that ended, for its reason
    recording: Payload | None
    speaker: bool = False  # invited to speak in the broadcast's session (meetings.models.Speaker)
    consent: Payload | None = None
    presentation: Payload | None = None


@database_sync_to_async
def _reassess(user_id: int, room_id: int, channel_name: str, role: SessionRole) -> Reassessed | None:
    """Ask the room policy again, with the person and room re-read (deactivated, removed, demoted).

    None: they may no longer be in the room. A changed role moves the socket's presence to it.
    """
    user = User.objects.filter(pk=user_id).first()
    member = _member(user, room_id)
    if user is None or member is None:
        return None
    room, new_role = member
    if new_role != role:
        services.change_presence_role(channel_name=channel_name, role=new_role)
    session = selectors.open_session(room=room)
    ended = None if session is not None else LiveSession.objects.ended().filter(room=room).first()
    active = recording_selectors.active_recording(room_id=room.pk)
    return Reassessed(
        user=user,
        room=room,
        role=new_role,
        session=session,
        ended=ended,
        speaker=session is not None and not permissions.is_leader(new_role) and permissions.is_speaker(user.pk, room),
        recording=recording_events.snapshot(active),
        consent=_consent_of(active, user),
        presentation=selectors.presentation_snapshot_for_room(room_id=room.pk),
    )


def _ref(content: object) -> int | str | None:
    """The browser's own id for a command, echoed only if it is a JSON string or integer (never NaN,
    Infinity or a structure, which the browser's JSON.parse would choke on or could not match)."""
    ref = content.get("id") if isinstance(content, dict) else None
    if isinstance(ref, str) or (isinstance(ref, int) and not isinstance(ref, bool)):
        return ref
    return None


Command = Callable[["RoomConsumer", Payload, Any], Awaitable[None]]


class RoomConsumer(PresentingCommands, AsyncJsonWebsocketConsumer):
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
        "pause_recording": RoomAction.PAUSE_RECORDING,
        "resume_recording": RoomAction.PAUSE_RECORDING,
        "end_session": RoomAction.END_SESSION,
        "go_live": RoomAction.GO_LIVE,
        "consent": RoomAction.ANSWER_CONSENT,
        # Presenting from Media and Files (issue 11): rooms/presenting.py's commands.
        "present_start": RoomAction.PRESENT,
        "present_page": RoomAction.PRESENT,
        "present_video": RoomAction.PRESENT,
        "present_stop": RoomAction.PRESENT,
        "signal": RoomAction.SIGNAL,
        "media_state": RoomAction.SEND_MEDIA,
        "mute": RoomAction.MUTE_OTHERS,
        "speaker": RoomAction.INVITE_SPEAKER,
    }
    # The mesh's frequent messages are authorised with the role the socket holds (kept current by
    # room_access_changed, which re-asks the policy when anything about the person changes), so a
    # join's dozens of ICE candidates cost no database query. All three are rate-limited.
    HELD_ROLE_COMMANDS = frozenset({"signal", "media_state"})
    RATE_LIMITED_COMMANDS = frozenset({"signal", "media_state", "mute"})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            if hasattr(self, "channel_name"):
                raise
            # Channels subscribes the socket's own channel before anything of ours runs; with Redis
            # down that fails, and Daphne would answer the handshake with a 500. Answer it here
            # instead: accepted, then closed with "try again later", which the browser retries.
            logger.warning("could not subscribe a room socket (channel layer unreachable); asking the browser to retry")
            await receive()  # the handshake: websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})

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
        self.closed = False  # closed by us: events still queued for this socket are dropped
        self.entered = False  # a presence row exists for this socket (left on disconnect)
        self.reassessing = asyncio.Lock()  # a role change and a resync after a Redis restart may meet
        self.peer: signalling.Peer | None = None  # this socket in the session's mesh, once registered
        self.mesh_peer_id = signalling.new_peer_id()  # kept while the mesh is full, for when it is not
        self.told_mesh_full = False
        self.speaker = False  # invited to speak in a broadcast (kept current like the role)
        self.peer_cache: dict[str, tuple[float, signalling.Peer]] = {}  # peer id -> (until, peer)
        self.session_id: int | None = None
        self.limiter = signalling.RateLimiter()
        room_id = self.scope["url_route"]["kwargs"]["room_id"]
        entered = await _joins.enter(self.scope, room_id, self.channel_name)
        if entered is None:
            # Refused before accept: anonymous, unknown room and no access look the same.
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        room, role, joined = entered.room, entered.role, entered.joined
        self.room, self.role, self.user = room, role, entered.user
        self.speaker = bool(joined.get("speaker"))
        self.entered = True
        try:
            await self._join_groups(self._groups_for(role))
        except Exception:  # Redis unreachable (a restart): a defined close the browser retries, no 1011
            logger.warning("room %s: could not join the channel layer groups; asking the browser to retry", room.pk)
            await self.accept()
            await self._close(CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()
        events.subscription_watch.watch(self.channel_layer, self)  # after accept: a resync sends
        session: LiveSession = joined["session"]
        recording: Payload | None = joined["recording"]
        await self._send(self._state(session, recording, joined["consent"], joined.get("presentation")))
        if recording is not None:  # a late joiner is told, not only shown
            await self._send(recording_events.late_joiner_notice(recording))
        await self._mesh_join(session.pk, waiting=True)

    async def disconnect(self, code: int) -> None:
        self.gone = True  # a presence flush already under way must not register this socket again
        batcher.forget(self.channel_name)
        events.subscription_watch.forget(self)
        await self._leave_groups()
        await self._mesh_leave()
        if getattr(self, "entered", False):
            await database_sync_to_async(services.leave_session)(channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        too_big = "Messages must be JSON text of at most 4 KB."
        if text_data is None or len(text_data) > MAX_SIGNAL_BYTES:
            await self._error(too_big)
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError) as exc:
            if len(text_data) > MAX_MESSAGE_BYTES:
                await self._error(too_big)
            elif isinstance(exc, RecursionError):  # valid JSON, but 3 KB of nested arrays is too deep
                await self._error("That message is nested too deeply.")
            else:
                await self._error("That message is not valid JSON.")
            return
        if len(text_data) > MAX_MESSAGE_BYTES and not (isinstance(content, dict) and content.get("type") == "signal"):
            await self._error(too_big)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        command = content.get("type") if isinstance(content, dict) else None
        ref = _ref(content)
        if not isinstance(command, str) or command not in self.COMMANDS:
            await self._error("Unknown command.", ref=ref)
            return
        action = self.COMMANDS[command]
        if command in self.RATE_LIMITED_COMMANDS and not self.limiter.allow():
            await self._error("Too many messages: slow down.", ref=ref)
            return
        try:
            if command in self.HELD_ROLE_COMMANDS:
                allowed = action is None or self._may(action)
            else:
                allowed = action is None or await _allowed(self.user, action, self.room)
            if not allowed:
                assert action is not None
                await self._error(permissions.refusal(action, self.room), ref=ref)
                return
            await getattr(self, f"cmd_{command}")(content, ref)
        except (recording_services.RecordingError, signalling.SignalError, services.SpeakerError) as exc:
            await self._error(str(exc), ref=ref)
        except Exception:  # the socket must outlive any one bad command
            logger.exception("command %s failed in room %s", command, self.room.pk)
            await self._error("Something went wrong; please try again.", ref=ref)

    # --- commands ---------------------------------------------------------------------------

    async def cmd_heartbeat(self, content: Payload, ref: Any) -> None:
        batcher.touch(self.channel_name, self)
        if self.session_id is not None:
            try:
                if self.peer is None:  # the mesh was full: a place may be free now
                    await self._mesh_join(self.session_id, waiting=True)
                elif not await signalling.roster.touch(self.session_id, self.peer.peer):
                    await self._mesh_join(self.session_id)  # its key went (a Redis restart): back in
            except Exception:  # Redis down: the next heartbeat tries again
                logger.warning("room %s: could not refresh a mesh peer", self.room.pk)
        self.heartbeats += 1
        if self.heartbeats <= EARLY_PROBES or self.heartbeats % PROBE_EVERY == 0:
            await self._send(ClockProbe(server_time=time.time()))

    async def rejoin(self) -> None:
        """Our presence expired while the tab slept: register again rather than vanish.

        Never after the socket went: the batcher may have taken it into a flush just before, and
        a presence registered for a closed socket would cancel the host-left time-out.
        """
        if getattr(self, "gone", False) or getattr(self, "closed", False):
            return
        await _join(self.room, self.user, self.role, self.channel_name)

    async def cmd_clock_reply(self, content: Payload, ref: Any) -> None:
        server_sent, client_time = content.get("server_time"), content.get("client_time")
        if not (_is_number(server_sent) and _is_number(client_time)):
            await self._error("A clock reply needs numeric server_time and client_time.", ref=ref)
            return
        # In a database trip with every other socket's reply (rooms/joins.py: all answer on joining);
        # not awaited, so this socket's next message is not held up by it.
        joins.clock_replies.post(
            services.ClockProbe(
                channel_name=self.channel_name,
                server_sent=float(server_sent),
                client_time=float(client_time) / 1000.0,
                server_received=time.time(),
            )
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

    async def cmd_consent(self, content: Payload, ref: Any) -> None:
        """{"type": "consent", "answer": "agree" | "decline", "recording": uid (optional)}: may we record you?"""
        answer, uid = content.get("answer"), content.get("recording")
        if answer not in ("agree", "decline"):
            await self._error('A consent answer is "agree" or "decline".', ref=ref)
            return
        if uid is not None and not isinstance(uid, str):
            await self._error("A consent answer names its recording by its uid.", ref=ref)
            return
        row = await database_sync_to_async(_answer_consent)(self.room, self.user, answer, uid)
        await self._send(Ack(id=ref, command="consent", result={"answer": row.answer, "uid": str(row.recording.uid)}))

    async def cmd_pause_recording(self, content: Payload, ref: Any) -> None:
        outcome = await database_sync_to_async(recording_services.pause_recording)(room_id=self.room.pk, by=self.user)
        result = {"paused": outcome.changed, "message": outcome.message}
        await self._send(Ack(id=ref, command="pause_recording", result=result))

    async def cmd_resume_recording(self, content: Payload, ref: Any) -> None:
        outcome = await database_sync_to_async(recording_services.resume_recording)(room_id=self.room.pk, by=self.user)
        result = {"resumed": outcome.changed, "message": outcome.message}
        await self._send(Ack(id=ref, command="resume_recording", result=result))

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

    async def cmd_signal(self, content: Payload, ref: Any) -> None:
        """{"type": "signal", "to": peer, "kind": "offer"|"answer"|"candidate", "sdp"|"candidate"}: relayed
        to that peer's socket only, if it is in this session and one of the two sends media."""
        signal = signalling.parse_signal(content)
        target = None
        if self.peer is not None and self.session_id is not None:
            target = await self._mesh_peer(self.session_id, signal.to)
        if self.peer is None or target is None or target.peer == self.peer.peer:
            await self._error("That person is not in this session.", ref=ref)
            return
        if not (self.peer.sends or target.sends):
            await self._error("Neither of you sends media: there is nothing to connect.", ref=ref)
            return
        event = MeshSignal(from_peer=self.peer.peer, kind=signal.kind, sdp=signal.sdp, candidate=signal.candidate)
        await self.channel_layer.send(target.channel, events.channel_message(event))

    async def cmd_media_state(self, content: Payload, ref: Any) -> None:
        """{"type": "media_state", "mic": bool, "cam": bool, "screen": stream id | null}: told to everyone."""
        state = signalling.parse_media_state(content)
        if self.peer is None or self.session_id is None:
            await self._error("You are not in the meeting yet.", ref=ref)
            return
        if not self.peer.sends:
            state = signalling.MediaState(mic=False, cam=False, screen=state.screen)
        if state.screen is not None and not self._may(RoomAction.SHARE_SCREEN):
            await self._error(permissions.refusal(RoomAction.SHARE_SCREEN, self.room), ref=ref)
            return
        self.peer = dataclasses.replace(self.peer, mic=state.mic, cam=state.cam, screen=state.screen)
        await signalling.roster.put(self.session_id, self.peer)
        event = PeerState(peer_id=self.peer.peer, mic=state.mic, cam=state.cam, screen=state.screen)
        await self._mesh_tell(event, await signalling.roster.peers(self.session_id))

    async def cmd_mute(self, content: Payload, ref: Any) -> None:
        """{"type": "mute", "peer": peer id}: a host or moderator mutes someone's microphone; they may
        unmute themselves (the mute is a request their page carries out, and says so)."""
        target = await self._named_peer(content, ref)
        if target is None:
            return
        request = MuteRequest(by=self.user.label, text=meeting_notices.TEXTS.text("mesh_muted"))
        await self.channel_layer.send(target.channel, events.channel_message(request))
        await self._send(Ack(id=ref, command="mute", result={"peer": target.peer}))

    async def cmd_speaker(self, content: Payload, ref: Any) -> None:
        """{"type": "speaker", "peer": peer id, "speaker": bool}: a host or moderator of a broadcast invites
        a viewer to speak, or takes it back (meetings.services.set_speaker; their sockets hear of it)."""
        speaker = content.get("speaker")
        if not isinstance(speaker, bool):
            await self._error("Say whether they speak: speaker is true or false.", ref=ref)
            return
        target = await self._named_peer(content, ref)
        if target is None:
            return
        changed = await database_sync_to_async(_set_speaker)(self.room, target.user_id, speaker, self.user)
        await self._send(
            Ack(id=ref, command="speaker", result={"peer": target.peer, "speaker": speaker, "changed": changed})
        )

    async def _named_peer(self, content: Payload, ref: Any) -> signalling.Peer | None:
        """The session's peer a command names in "peer", or None once the error is sent."""
        peer_id = content.get("peer")
        target = None
        if isinstance(peer_id, str) and signalling.PEER_ID.fullmatch(peer_id) and self.session_id is not None:
            target = await signalling.roster.get(self.session_id, peer_id)
        if target is None:
            await self._error("That person is not in this session.", ref=ref)
        return target

    def _speaker_notice(self, speaker: bool) -> events.Notice:
        """What an invited (or no longer invited) speaker is told, once the mesh has taken them in again."""
        if not speaker:
            return meeting_notices.TEXTS.notice("speaker_ended")
        if self.peer is not None and self.peer.sends:
            return meeting_notices.TEXTS.notice("speaker_invited")
        # Invited, but the mesh already carries as many cameras and microphones as it can.
        return meeting_notices.TEXTS.notice("mesh_sender_limit", level="warning")

    def _may(self, action: RoomAction) -> bool:
        """The room policy for the role and speaker standing this socket holds (kept current by _reassess)."""
        return permissions.role_can(self.role, action, self.room, speaker=self.speaker)

    # --- the mesh: this socket in the session's roster -------------------------------------------

    async def _mesh_join(self, session_id: int, *, waiting: bool = False) -> None:
        """Register this socket in the session's mesh; send it the roster, and the mesh its arrival.

        The roster comes from Redis (meetings.signalling), never a database query: one round trip
        per join, one message to the joiner and one to each peer of the mesh (at most MESH_MAX_PEERS),
        never one every socket of the room hears. Past the cap the socket is in the room without
        live media, told once, and tries again at each heartbeat (docs/decisions/0032). A socket
        `waiting` for a place (joining, or past the cap) takes this process's recent "full" for an
        answer: in a 1,000-person room, 975 sockets would otherwise ask Redis at every heartbeat.
        """
        sends = self._may(RoomAction.SEND_MEDIA)
        previous = self.peer
        peer = signalling.Peer(
            peer=previous.peer if previous is not None else self.mesh_peer_id,
            user_id=self.user.pk,
            name=self.user.label,
            role=str(self.role),
            sends=sends,
            channel=self.channel_name,
            mic=previous.mic if previous is not None and sends else False,
            cam=previous.cam if previous is not None and sends else False,
            screen=previous.screen if previous is not None and self._may(RoomAction.SHARE_SCREEN) else None,
            speaker=self.speaker,
        )
        try:
            if waiting and signalling.roster.known_full(session_id):
                admitted, others = None, list[signalling.Peer]()  # a storm's 976th need not ask Redis
            else:
                admitted, others = await signalling.roster.join(
                    session_id,
                    peer,
                    sender_limit=settings.MESH_SENDER_LIMIT,
                    leader=permissions.is_leader(self.role),
                    max_peers=settings.MESH_MAX_PEERS,
                )
        except Exception:  # Redis unreachable: the meeting goes on without the mesh until a resync
            logger.warning("room %s: could not register a mesh peer", self.room.pk)
            return
        self.session_id = session_id
        if admitted is None:
            self.peer = None
            if not self.told_mesh_full:
                self.told_mesh_full = True
                await self._send(meeting_notices.TEXTS.notice("mesh_full", level="warning"))
            return
        self.peer = admitted
        await self._send(Roster(peer_id=admitted.peer, sends=admitted.sends, peers=[p.public() for p in others]))
        if sends and not admitted.sends and (previous is None or previous.sends):
            await self._send(meeting_notices.TEXTS.notice("mesh_sender_limit", level="warning"))
        elif not sends and previous is None and self.room.mode == Room.Mode.BROADCAST:
            await self._send(meeting_notices.TEXTS.notice("mesh_viewer"))
        await self._mesh_tell(PeerJoined(peer=admitted.public()), others)

    async def _mesh_leave(self) -> None:
        peer, session_id = getattr(self, "peer", None), getattr(self, "session_id", None)
        if peer is None or session_id is None:
            return
        self.peer = None
        try:
            await signalling.roster.leave(session_id, peer.peer)
            await self._mesh_tell(PeerLeft(peer_id=peer.peer), await signalling.roster.peers(session_id))
        except Exception:  # its key expires by itself; the others drop the tile when its connection fails
            logger.warning("room %s: could not remove a mesh peer", self.room.pk)

    async def _mesh_peer(self, session_id: int, peer_id: str) -> signalling.Peer | None:
        """A peer of the session, kept a moment: a join's offer and its candidates name the same peer
        a dozen times in a second, each otherwise a Redis round trip. A peer that left meanwhile gets
        a message on a channel nobody reads (dropped); one not found is looked up again next time."""
        now = time.monotonic()
        cached = self.peer_cache.get(peer_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        peer = await signalling.roster.get(session_id, peer_id)
        if peer is not None:
            if len(self.peer_cache) > 2 * settings.MESH_MAX_PEERS:
                self.peer_cache.clear()
            self.peer_cache[peer_id] = (now + PEER_CACHE_SECONDS, peer)
        return peer

    async def _mesh_tell(self, event: Event, peers: list[signalling.Peer]) -> None:
        """An event for the mesh, sent to its peers' sockets only (not this one): the rest of the room
        has no tile for this socket. Retried like every other event (core.events)."""
        channels = [p.channel for p in peers if p.channel != self.channel_name]
        await events.send_to_channels(self.channel_layer, channels, events.channel_message(event))

    # --- events from the channel layer --------------------------------------------------------

    async def room_event(self, event: dict[str, Any]) -> None:
        """Every event another part of the product sends (core.events), forwarded as encoded."""
        if self.closed:
            return
        await self.send(text_data=event["text"])
        if event["payload"].get("type") == "session_ended":
            await self._close(CLOSE_SESSION_ENDED)

    async def room_access_changed(self, event: dict[str, Any]) -> None:
        """Meetings announced a change of who may be here (core.events.announce_access_change)."""
        room_id = event.get("room_id")
        if self.closed or (room_id is not None and room_id != self.room.pk):
            return
        await self._reassess(tell=False)

    async def resync(self) -> None:
        """The subscription was re-established after a Redis restart: events may have been missed."""
        if not self.closed:
            await self._reassess(tell=True)

    async def _reassess(self, *, tell: bool) -> None:
        """Re-ask the room policy: close a socket whose person may no longer be here (4403), move one
        whose role changed to its new groups, and send the current state if anything changed or `tell`."""
        async with self.reassessing:
            try:
                await self._reassess_now(tell=tell)
            except Exception:  # the database or Redis failed us: fail closed; the browser reconnects
                logger.exception("room %s: could not re-check user %s; closing", self.room.pk, self.user.pk)
                await self._close(CLOSE_TRY_AGAIN_LATER)

    async def _reassess_now(self, *, tell: bool) -> None:
        now = await _reassess(self.user.pk, self.room.pk, self.channel_name, self.role)
        if self.closed:
            return
        if now is None:
            logger.info("room %s: user %s may no longer be here; closing their socket", self.room.pk, self.user.pk)
            await self._close(CLOSE_NOT_ALLOWED)
            return
        changed = now.role != self.role
        spoken = now.speaker != self.speaker  # invited to speak, or taken back
        self.user, self.room, self.speaker = now.user, now.room, now.speaker
        if changed:
            self.role = now.role
            await self._leave_groups()
            await self._join_groups(self._groups_for(now.role))
        if now.session is None:  # it ended while this socket heard nothing of it
            reason = now.ended.end_reason if now.ended is not None else LiveSession.EndReason.ENDED_BY_HOST
            code = services.SESSION_ENDED_CODE.get(reason, "session_ended")
            await self._send(SessionEnded(reason=reason, text=meeting_notices.TEXTS.text(code)))
            await self._close(CLOSE_SESSION_ENDED)
        elif changed or spoken or tell:
            await self._send(self._state(now.session, now.recording, now.consent, now.presentation))
            # The mesh hears of a new role or a viewer made a speaker; after a Redis restart the
            # roster may be gone: the socket registers again, under the same peer id.
            await self._mesh_join(now.session.pk)
            if spoken:
                await self._send(self._speaker_notice(now.speaker))

    # --- helpers ------------------------------------------------------------------------------

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            # The browser closed while this was on its way (Daphne tells us with websocket.disconnect
            # a moment later): nobody is there to read it, and it is no application error.
            self.closed = True

    def _groups_for(self, role: SessionRole) -> list[str]:
        leader = permissions.is_leader(role)
        return [
            events.room_group(self.room.pk),
            events.leaders_group(self.room.pk) if leader else events.participants_group(self.room.pk),
            events.user_group(self.user.pk),
        ]

    async def _join_groups(self, groups: list[str]) -> None:
        for group in groups:
            for delay in (*GROUP_ADD_RETRY_DELAYS, None):
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                    break
                except Exception:
                    if delay is None:
                        raise
                    await asyncio.sleep(delay)
            self.groups_joined.append(group)

    async def _leave_groups(self) -> None:
        groups, self.groups_joined = getattr(self, "groups_joined", []), []
        for group in groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # Redis down: the subscription is gone with it; nothing to undo
                logger.warning("could not leave group %s (channel layer unreachable)", group)

    async def _close(self, code: int) -> None:
        """Close once; stop forwarding at once (events already queued for us must not go out)."""
        if self.closed:
            return
        self.closed = True
        await self._leave_groups()
        await self._mesh_leave()
        if self.entered:  # out of the room now, not when the browser has acknowledged the close
            self.entered = False
            try:
                await database_sync_to_async(services.leave_session)(channel_name=self.channel_name)
            except Exception:  # the database is down: the presence expires by itself (PRESENCE_TTL_SECONDS)
                logger.exception("could not remove the presence of %s", self.channel_name)
        await self.close(code=code)

    def _state(
        self,
        session: LiveSession,
        recording: Payload | None,
        consent: Payload | None = None,
        presentation: Payload | None = None,
    ) -> State:
        return State(
            role=str(self.role),
            is_leader=permissions.is_leader(self.role),
            user_id=self.user.pk,
            session={"id": session.pk, "state": session.state, "broadcast": self.room.mode == Room.Mode.BROADCAST},
            recording=recording,
            server_time=time.time(),
            heartbeat_seconds=settings.HEARTBEAT_SECONDS,
            consent=consent,
            presentation=presentation,
        )

    async def _send(self, event: Event) -> None:
        await self.send_json(event.payload())

    async def _error(self, message: str, ref: Any = None) -> None:
        await self._send(Error(error=message, id=ref))
