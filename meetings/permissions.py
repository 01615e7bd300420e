"""Who may do what in a room: the only place that knows (SPEC.md "People and roles").

Every view, consumer and task asks these functions; none re-derives roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from meetings.models import ChannelMembership, ChannelRole, CollaboratorRole, Room, SessionRole, User

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
    channel_role = None
    is_channel_owner = False
    if room.kind == Room.Kind.CHANNEL and room.channel_id is not None:
        is_channel_owner = room.channel.owner_id == user.pk
        channel_role = (
            ChannelMembership.objects.filter(channel_id=room.channel_id, user=user).values_list("role", flat=True).first()
        )
    return RoomFacts(
        collab_role=room.collaborators.filter(user=user).values_list("role", flat=True).first(),
        is_room_moderator=room.moderators.filter(pk=user.pk).exists(),
        is_invitee=room.invitees.filter(pk=user.pk).exists(),
        channel_role=channel_role,
        is_channel_owner=is_channel_owner,
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
