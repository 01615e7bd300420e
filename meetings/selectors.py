"""Reads for the meetings app."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from meetings.models import (
    Channel,
    ChannelMembership,
    LiveSession,
    Presence,
    Presentation,
    PresentationEvent,
    Room,
    RoomCollaborator,
    SessionRole,
    Speaker,
    User,
)
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


# --- Presentations (issue 11): what is on the stage from Media and Files -----------------------------


def current_presentation(*, session_id: int) -> Presentation | None:
    """The session's presentation running now (at most one: a constraint says so)."""
    return Presentation.objects.filter(session_id=session_id, ended_at__isnull=True).select_related("presenter").first()


def presentation_snapshot(
    presentation: Presentation | None, last: PresentationEvent | None = None
) -> dict[str, Any] | None:
    """What the browsers need to show `presentation` as it is now (core.events.PresentationState), or None.

    `last`: its newest event, if the caller has it (else read). No URLs: the room page builds them from its
    config (media_library serves the files to the room's members only while the presentation runs).
    """
    if presentation is None or presentation.ended_at is not None:
        return None
    if last is None:
        last = presentation.events.order_by("-at", "-pk").first()
    presenter = presentation.presenter
    return {
        "id": presentation.pk,
        "kind": presentation.kind,
        "entry_id": presentation.entry_id,
        "title": presentation.title,
        "presenter_id": presentation.presenter_id,
        "presenter": presenter.label if presenter is not None else "",
        "page": last.page if last is not None else None,
        "page_count": len(presentation.pages),
        "position": last.position if last is not None else None,
        "playing": last.playing if last is not None else False,
        "at": last.at.timestamp() if last is not None else presentation.started_at.timestamp(),
        "server_time": time.time(),
    }


def presentation_snapshot_for_room(*, room_id: int) -> dict[str, Any] | None:
    """The room's open session's presentation, as a snapshot (a joining socket's State)."""
    session_id = LiveSession.objects.open().filter(room_id=room_id).values_list("pk", flat=True).first()
    if session_id is None:
        return None
    return presentation_snapshot(current_presentation(session_id=session_id))


def live_counts() -> tuple[int, int]:
    """Open live sessions, and sockets present in them (a presence not refreshed in time is gone)."""
    cutoff = timezone.now() - timedelta(seconds=settings.PRESENCE_TTL_SECONDS)
    sessions = LiveSession.objects.open().count()
    sockets = Presence.objects.filter(last_seen__gte=cutoff, session__in=LiveSession.objects.open()).count()
    return sessions, sockets


def speaker_ids(*, room: Room, session_id: int, user_ids: list[int]) -> set[int]:
    """Which of these people were invited to speak in the room's session (a join batch asks once; only
    a broadcast has speakers, so a meeting's batch asks nothing)."""
    if room.mode != Room.Mode.BROADCAST or not user_ids:
        return set()
    return set(Speaker.objects.filter(session_id=session_id, user_id__in=user_ids).values_list("user_id", flat=True))
