"""Reads for the meetings app."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from meetings.models import Channel, ChannelMembership, LiveSession, Room, RoomCollaborator, SessionRole, User
from meetings.permissions import RoomFacts, role_from_facts


@dataclass(frozen=True)
class RoomWithRole:
    room: Room
    role: SessionRole
    live: bool


def rooms_for_user(*, user: User) -> list[RoomWithRole]:
    """Every room `user` may join, with their session role, in a fixed number of queries."""
    collab = dict(RoomCollaborator.objects.filter(user=user).values_list("room_id", "role"))
    moderated = set(user.moderated_rooms.values_list("pk", flat=True))
    invited = set(user.invited_rooms.values_list("pk", flat=True))
    channel_roles = dict(ChannelMembership.objects.filter(user=user).values_list("channel_id", "role"))
    owned_channels = set(Channel.objects.filter(owner=user).values_list("pk", flat=True))
    candidates = (
        Room.objects.filter(
            Q(owner=user)
            | Q(pk__in=collab)
            | Q(pk__in=moderated)
            | Q(pk__in=invited)
            | Q(channel_id__in=channel_roles)
            | Q(channel_id__in=owned_channels)
        )
        .select_related("channel")
        .distinct()
        .order_by("title")
    )
    live_ids = set(LiveSession.objects.open().filter(room__in=candidates).values_list("room_id", flat=True))
    result = []
    for room in candidates:
        facts = RoomFacts(
            collab_role=collab.get(room.pk),
            is_room_moderator=room.pk in moderated,
            is_invitee=room.pk in invited,
            channel_role=channel_roles.get(room.channel_id) if room.channel_id else None,
            is_channel_owner=room.channel_id in owned_channels if room.channel_id else False,
        )
        role = role_from_facts(room, user.pk, facts)
        if role is not None:
            result.append(RoomWithRole(room=room, role=role, live=room.pk in live_ids))
    return result


def channels_for_user(*, user: User) -> list[tuple[Channel, str]]:
    """Channels `user` owns or belongs to, with their channel role ("owner" for the owner)."""
    roles = dict(ChannelMembership.objects.filter(user=user).values_list("channel_id", "role"))
    channels = Channel.objects.filter(Q(owner=user) | Q(pk__in=roles)).distinct().order_by("name")
    return [(c, "owner" if c.owner_id == user.pk else roles[c.pk]) for c in channels]


def open_session(*, room: Room) -> LiveSession | None:
    return LiveSession.objects.open().filter(room=room).first()
