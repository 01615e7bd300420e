"""Reads for the meetings app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from meetings.models import Channel, ChannelMembership, LiveSession, Room, RoomCollaborator, SessionRole, User
from meetings.permissions import RoomFacts, is_leader, role_from_facts

if TYPE_CHECKING:  # recordings imports meetings at load time; the runtime import is in the function
    from recordings.models import Recording


@dataclass(frozen=True)
class RoomWithRole:
    room: Room
    role: SessionRole
    live: bool
    held: int = 0  # broadcast recordings waiting for the room to be closed (counted for leaders only)


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
    live_ids = set(
        LiveSession.objects.filter(room__in=candidates)
        .exclude(state=LiveSession.State.ENDED)
        .values_list("room_id", flat=True)
    )
    from recordings.models import Recording

    held = dict(
        Recording.objects.filter(room__in=candidates, state=Recording.State.HELD)
        .values("room_id")
        .annotate(n=Count("pk"))
        .values_list("room_id", "n")
    )
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
            result.append(
                RoomWithRole(
                    room=room, role=role, live=room.pk in live_ids, held=held.get(room.pk, 0) if is_leader(role) else 0
                )
            )
    return result


def channels_for_user(*, user: User) -> list[tuple[Channel, str]]:
    """Channels `user` owns or belongs to, with their channel role ("owner" for the owner)."""
    roles = dict(ChannelMembership.objects.filter(user=user).values_list("channel_id", "role"))
    channels = Channel.objects.filter(Q(owner=user) | Q(pk__in=roles)).distinct().order_by("name")
    return [(c, "owner" if c.owner_id == user.pk else roles[c.pk]) for c in channels]


def open_session(*, room: Room) -> LiveSession | None:
    return LiveSession.objects.filter(room=room).exclude(state=LiveSession.State.ENDED).first()


def held_recordings(*, room: Room) -> list[Recording]:
    """A broadcast room's recordings waiting for the room to be closed (shown to its hosts)."""
    from recordings.models import Recording  # noqa: F811

    if room.mode != Room.Mode.BROADCAST:
        return []
    return list(
        Recording.objects.filter(room=room, state=Recording.State.HELD)
        .order_by("-created_at")
        .only("uid", "created_at", "duration")
    )
