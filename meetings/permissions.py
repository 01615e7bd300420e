"""Who may do what in a room: the only place that knows (SPEC.md "People and roles").

A person's session role comes from the room's facts (owner, collaborators, moderators, invitees,
channel roles); what a role may do is one table, ROOM_POLICY. Every view, consumer command,
service and the media library asks `can(user, action, room)` (or `role_can` when it holds the
role already); none keeps a list of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Subquery

from meetings.models import (
    ChannelMembership,
    ChannelRole,
    CollaboratorRole,
    Room,
    RoomCollaborator,
    SessionRole,
    Speaker,
    User,
)

AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class RoomFacts:
    """What decides a person's role in one room; loaded one room at a time or in bulk."""

    collab_role: str | None = None
    is_room_moderator: bool = False
    is_invitee: bool = False
    channel_role: str | None = None
    is_channel_owner: bool = False


def role_from_facts(room: Room, user_id: int, facts: RoomFacts) -> SessionRole | None:
    if room.kind == Room.Kind.CHANNEL:
        # SPEC: in a channel room the channel's owner and managers host.
        if facts.is_channel_owner or facts.channel_role == ChannelRole.MANAGER:
            return SessionRole.HOST
        if facts.channel_role == ChannelRole.MODERATOR or facts.is_room_moderator:
            return SessionRole.MODERATOR
        if facts.channel_role is not None or facts.collab_role is not None or facts.is_invitee:
            return SessionRole.PARTICIPANT
        return None
    if room.owner_id == user_id or facts.collab_role == CollaboratorRole.CO_EDITOR:
        return SessionRole.HOST
    if facts.is_room_moderator:
        return SessionRole.MODERATOR
    if facts.collab_role is not None or facts.is_invitee:
        return SessionRole.PARTICIPANT
    return None


def room_facts(user: User, room: Room) -> RoomFacts:
    """Everything that decides `user`'s role in `room`, in one query (asked on every segment upload)."""
    member = ChannelMembership.objects.filter(channel_id=OuterRef("channel_id"), user_id=user.pk)
    row = (
        Room.objects.filter(pk=room.pk)
        .annotate(
            collab_role=Subquery(
                RoomCollaborator.objects.filter(room_id=OuterRef("pk"), user_id=user.pk).values("role")[:1]
            ),
            is_room_moderator=Exists(Room.moderators.through.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)),
            is_invitee=Exists(Room.invitees.through.objects.filter(room_id=OuterRef("pk"), user_id=user.pk)),
            channel_role=Subquery(member.values("role")[:1]),
            channel_owner_id=F("channel__owner_id"),
        )
        .values("collab_role", "is_room_moderator", "is_invitee", "channel_role", "channel_owner_id")
        .first()
    )
    if row is None:
        return RoomFacts()
    is_channel_room = room.kind == Room.Kind.CHANNEL and room.channel_id is not None
    return RoomFacts(
        collab_role=row["collab_role"],
        is_room_moderator=row["is_room_moderator"],
        is_invitee=row["is_invitee"],
        channel_role=row["channel_role"] if is_channel_room else None,
        is_channel_owner=is_channel_room and row["channel_owner_id"] == user.pk,
    )


def session_role(user: AnyUser, room: Room) -> SessionRole | None:
    """The role `user` would have in a live session of `room`, or None if they may not join."""
    if not user.is_authenticated or not user.is_active:
        return None
    return role_from_facts(room, user.pk, room_facts(user, room))


def session_roles(users: list[AnyUser], room: Room) -> dict[int, SessionRole | None]:
    """`session_role` for many people of one room at once (a join storm), in four small queries.

    Keyed by user id; anonymous and inactive people are left out (they may not join).
    """
    ids = [user.pk for user in users if user.is_authenticated and user.is_active]
    if not ids:
        return {}
    collab = dict(RoomCollaborator.objects.filter(room_id=room.pk, user_id__in=ids).values_list("user_id", "role"))
    moderators = set(
        Room.moderators.through.objects.filter(room_id=room.pk, user_id__in=ids).values_list("user_id", flat=True)
    )
    invitees = set(
        Room.invitees.through.objects.filter(room_id=room.pk, user_id__in=ids).values_list("user_id", flat=True)
    )
    is_channel_room = room.kind == Room.Kind.CHANNEL and room.channel_id is not None
    channel_roles: dict[int, str] = {}
    channel_owner_id = None
    if is_channel_room and room.channel_id is not None:
        members = ChannelMembership.objects.filter(channel_id=room.channel_id, user_id__in=ids)
        channel_roles = dict(members.values_list("user_id", "role"))
        channel_owner_id = room.channel.owner_id if room.channel is not None else None
    return {
        user_id: role_from_facts(
            room,
            user_id,
            RoomFacts(
                collab_role=collab.get(user_id),
                is_room_moderator=user_id in moderators,
                is_invitee=user_id in invitees,
                channel_role=channel_roles.get(user_id),
                is_channel_owner=is_channel_room and channel_owner_id == user_id,
            ),
        )
        for user_id in ids
    }


def is_leader(role: SessionRole | str | None) -> bool:
    """Hosts and moderators lead a session."""
    return role in LEADER_ROLES


# --- The room policy: one table of what each role may do in a room ------------------------------


class RoomAction(StrEnum):
    JOIN = "join"
    RECORD = "record"
    STOP_RECORDING = "stop_recording"
    PAUSE_RECORDING = "pause_recording"
    END_SESSION = "end_session"
    GO_LIVE = "go_live"  # broadcast rooms: leave preview
    CLOSE_ROOM = "close_room"  # broadcast rooms: close completely, which publishes held recordings
    SEE_HELD_RECORDINGS = "see_held_recordings"
    OPEN_MEDIA_AND_FILES = "open_media_and_files"
    PRESENT = "present"  # an item of Media and Files on the stage
    SHARE_SCREEN = "share_screen"
    SEND_MEDIA = "send_media"  # camera, microphone and screen: live, and uploaded while recording
    MUTE_OTHERS = "mute_others"
    MANAGE_WEBHOOKS = "manage_webhooks"  # register the room's webhook endpoints (owner only)
    ANSWER_CONSENT = "answer_consent"  # agree or decline to be recorded (issue 12)
    SIGNAL = "signal"  # the live mesh's WebRTC signalling to another member of the session (issue 11)
    INVITE_SPEAKER = "invite_speaker"  # broadcast rooms: let a viewer send media, or take it back


LEADER_ROLES = frozenset({SessionRole.HOST, SessionRole.MODERATOR})
EVERYONE = frozenset(SessionRole)

ROOM_POLICY: dict[RoomAction, frozenset[SessionRole]] = {
    RoomAction.JOIN: EVERYONE,
    RoomAction.RECORD: LEADER_ROLES,
    RoomAction.STOP_RECORDING: LEADER_ROLES,
    RoomAction.PAUSE_RECORDING: LEADER_ROLES,
    RoomAction.END_SESSION: LEADER_ROLES,
    RoomAction.GO_LIVE: LEADER_ROLES,
    RoomAction.CLOSE_ROOM: LEADER_ROLES,
    RoomAction.SEE_HELD_RECORDINGS: LEADER_ROLES,
    RoomAction.OPEN_MEDIA_AND_FILES: LEADER_ROLES,
    RoomAction.PRESENT: LEADER_ROLES,
    # Everyone may share a screen in a meeting (the recording composes any shared screen).
    RoomAction.SHARE_SCREEN: EVERYONE,
    RoomAction.SEND_MEDIA: EVERYONE,  # but not a broadcast's viewers (BROADCAST_POLICY)
    RoomAction.MUTE_OTHERS: LEADER_ROLES,
    RoomAction.MANAGE_WEBHOOKS: frozenset({SessionRole.HOST}),  # and OWNER_ONLY: not every host
    # Everyone is asked, leaders too: consent is personal (docs/decisions/0023).
    RoomAction.ANSWER_CONSENT: EVERYONE,
    # Viewers of a broadcast signal too: they answer the offers of those who send (rooms.consumers
    # relays only between a pair of which one sends).
    RoomAction.SIGNAL: EVERYONE,
    RoomAction.INVITE_SPEAKER: LEADER_ROLES,
}
# What a live broadcast room changes (SPEC "Live broadcast rooms"): only its hosts and moderators
# send media and share a screen; viewers receive.
BROADCAST_POLICY: dict[RoomAction, frozenset[SessionRole]] = {
    RoomAction.SEND_MEDIA: LEADER_ROLES,
    RoomAction.SHARE_SCREEN: LEADER_ROLES,
}
# What an invited speaker of a live broadcast may do beyond their role (SPEC "The live meeting": "only
# hosts, moderators and invited speakers send media"): send, as in a meeting. A fact of the person in
# one session (meetings.models.Speaker), not a role: it ends with the session or when taken back.
SPEAKER_GRANTS = frozenset({RoomAction.SEND_MEDIA, RoomAction.SHARE_SCREEN})
# Actions that only mean something in a live broadcast room.
BROADCAST_ONLY = frozenset({RoomAction.GO_LIVE, RoomAction.CLOSE_ROOM, RoomAction.INVITE_SPEAKER})
# Actions for the room's owner only (owns()): a fact of the person, not of the role, since a
# co-editor hosts too. The issue: room owners register their rooms' webhooks.
OWNER_ONLY = frozenset({RoomAction.MANAGE_WEBHOOKS})


def owns(user: AnyUser, room: Room) -> bool:
    """Whether `user` owns `room`: its owner, or for a channel room the channel's owner (SPEC "Access")."""
    if not user.is_authenticated:
        return False
    if room.kind == Room.Kind.CHANNEL and room.channel is not None:
        return room.channel.owner_id == user.pk
    return room.owner_id == user.pk


def _role_allows(role: SessionRole | str, action: RoomAction, room: Room, *, speaker: bool = False) -> bool:
    if action in BROADCAST_ONLY and room.mode != Room.Mode.BROADCAST:
        return False
    if room.mode == Room.Mode.BROADCAST and action in BROADCAST_POLICY:
        return role in BROADCAST_POLICY[action] or (speaker and action in SPEAKER_GRANTS)
    return role in ROOM_POLICY[action]


def role_can(role: SessionRole | str | None, action: RoomAction, room: Room, *, speaker: bool = False) -> bool:
    """Whether a person with `role` in `room` may do `action` (for a caller that has the role already;
    `speaker`: they are an invited speaker of the room's open session, `is_speaker`).

    An OWNER_ONLY action needs the person, not only the role: refused here, answered by can().
    """
    if role is None or action in OWNER_ONLY:
        return False
    return _role_allows(role, action, room, speaker=speaker)


def is_speaker(user_id: int, room: Room) -> bool:
    """Whether the person was invited to speak in `room`'s open session (only a broadcast has speakers)."""
    if room.mode != Room.Mode.BROADCAST:
        return False
    return Speaker.objects.filter(user_id=user_id, session__room=room, session__ended_at__isnull=True).exists()


def refusal(action: RoomAction, room: Room) -> str:
    """Why `action` was refused, safe to show (the same for every role that may not)."""
    if action in BROADCAST_ONLY and room.mode != Room.Mode.BROADCAST:
        return "That is only possible in a live broadcast room."
    if action in OWNER_ONLY:
        return "Only the room's owner can do that."
    if action in SPEAKER_GRANTS and room.mode == Room.Mode.BROADCAST:
        return "Only hosts, moderators and invited speakers can do that."
    return "Only hosts and moderators can do that."


def can(user: AnyUser, action: RoomAction, room: Room) -> bool:
    """May `user` do `action` in `room`? Asked by every view, consumer command, service and the library."""
    if action in OWNER_ONLY:
        role = session_role(user, room)
        return role is not None and owns(user, room) and _role_allows(role, action, room)
    role = session_role(user, room)
    # Only a broadcast's viewer needs the speaker fact, and only for what a speaker may do: one query then.
    speaker = (
        action in SPEAKER_GRANTS and role is not None and not is_leader(role) and user.is_authenticated
        and is_speaker(user.pk, room)
    )  # fmt: skip
    return role_can(role, action, room, speaker=speaker)


def leaders_of(room: Room) -> set[int]:
    """Ids of the active people who host or moderate `room` (told about its recordings)."""
    candidates = {room.owner_id}
    candidates |= set(RoomCollaborator.objects.filter(room=room).values_list("user_id", flat=True))
    candidates |= set(room.moderators.values_list("pk", flat=True))
    if room.kind == Room.Kind.CHANNEL and room.channel is not None:
        candidates.add(room.channel.owner_id)
        candidates |= set(
            ChannelMembership.objects.filter(
                channel=room.channel, role__in=[ChannelRole.MANAGER, ChannelRole.MODERATOR]
            ).values_list("user_id", flat=True)
        )
    users = User.objects.filter(pk__in=candidates, is_active=True)
    return {user.pk for user in users if is_leader(session_role(user, room))}
