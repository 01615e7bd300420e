"""Who may do what in a room: the only place that knows (SPEC.md "People and roles").

Every view, consumer and task asks these functions; none re-derives roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Subquery

from meetings.models import ChannelMembership, ChannelRole, CollaboratorRole, Room, RoomCollaborator, SessionRole, User

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


def is_leader(role: SessionRole | str | None) -> bool:
    """Hosts and moderators lead a session: record, stop, open Media and Files, end it."""
    return role in (SessionRole.HOST, SessionRole.MODERATOR)


def can_open_media_and_files(user: AnyUser, room: Room) -> bool:
    return is_leader(session_role(user, room))
