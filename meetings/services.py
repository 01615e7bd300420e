"""Writes for the meetings app: every state change of rooms and sessions happens here.

The only module that writes `LiveSession.state` (tests/architecture checks it). What the apps
above must react to is announced through `meetings.signals`, never by calling them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, QuerySet
from django.utils import timezone

from core import events
from core.events import PresentationState, SessionEnded, SessionState
from meetings import signals
from meetings.models import (
    Channel,
    ChannelMembership,
    ChannelRole,
    CollaboratorRole,
    LiveSession,
    Presence,
    Presentation,
    PresentationEvent,
    PresentationKind,
    Room,
    RoomCollaborator,
    SessionRole,
    Speaker,
    User,
)
from meetings.notices import TEXTS as NOTICES
from meetings.permissions import LEADER_ROLES, RoomAction, is_leader, role_can, session_role
from meetings.selectors import presentation_snapshot


@dataclass
class DemoData:
    users: dict[str, User] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    channel: Channel | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)


DEMO_USERS: list[tuple[str, str, str, bool]] = [
    # username, display name, what they are, staff
    ("host", "Hana Host", "host: owns 'Weekly planning' and the 'Product team' channel", False),
    ("moderator", "Milo Moderator", "moderator in both rooms", False),
    ("participant", "Pia Participant", "participant: invited to 'Weekly planning', channel member", False),
    ("coeditor", "Cora Co-editor", "co-editor of 'Weekly planning' (a host there)", False),
    ("outsider", "Otto Outsider", "no access to anything", False),
    ("admin", "Ada Admin", "staff admin (Django admin at /admin/)", True),
]


@transaction.atomic
def seed_demo(*, password: str) -> DemoData:
    """Create or refresh the demo; running it again changes nothing but passwords."""
    demo = DemoData()
    for username, display_name, what, staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"display_name": display_name})
        user.display_name = display_name
        user.email = f"{username}@example.com"
        user.is_staff = staff
        user.is_superuser = staff
        user.set_password(password)
        user.save()
        demo.users[username] = user
        demo.logins.append((username, what))
    u = demo.users

    weekly, _ = Room.objects.update_or_create(
        title="Weekly planning",
        kind=Room.Kind.SINGLE,
        owner=u["host"],
        defaults={"creator": u["host"], "origin": Room.Origin.NATIVE},
    )
    weekly.moderators.set([u["moderator"]])
    weekly.invitees.set([u["participant"]])
    RoomCollaborator.objects.update_or_create(
        room=weekly, user=u["coeditor"], defaults={"role": CollaboratorRole.CO_EDITOR}
    )
    demo.rooms["single"] = weekly

    lecture, _ = Room.objects.update_or_create(
        title="Course lecture (from LMS)",
        kind=Room.Kind.SINGLE,
        owner=u["host"],
        defaults={"creator": u["host"], "origin": Room.Origin.INTEGRATION},
    )
    lecture.moderators.set([u["moderator"]])
    lecture.invitees.set([u["participant"]])
    demo.rooms["integration"] = lecture

    channel, _ = Channel.objects.update_or_create(
        slug="product-team",
        defaults={"name": "Product team", "owner": u["host"], "description": "Product team channel"},
    )
    for username, role in (("moderator", ChannelRole.MODERATOR), ("participant", ChannelRole.MEMBER)):
        ChannelMembership.objects.update_or_create(channel=channel, user=u[username], defaults={"role": role})
    channel_room, _ = Room.objects.update_or_create(
        channel=channel,
        defaults={"title": "Product team live", "kind": Room.Kind.CHANNEL, "owner": u["host"], "creator": u["host"]},
    )
    demo.channel = channel
    demo.rooms["channel"] = channel_room
    return demo


# --- Live sessions and presence ---------------------------------------------------------------

# The notice text for each way a session ends (meetings.notices).
SESSION_ENDED_CODE: dict[str, str] = {
    LiveSession.EndReason.ENDED_BY_HOST: "session_ended_by_host",
    LiveSession.EndReason.HOST_LEFT: "session_ended_host_left",
    LiveSession.EndReason.SESSION_CAP: "session_ended_session_cap",
    LiveSession.EndReason.ROOM_CLOSED: "session_ended_room_closed",
}


def open_or_create_session(*, room: Room) -> LiveSession:
    """The room's open session; the first person in starts one (the DB allows one open per room)."""
    open_session = LiveSession.objects.open().filter(room=room).first()
    if open_session is not None:
        return open_session
    now = timezone.now()
    state = LiveSession.State.PREVIEW if room.mode == Room.Mode.BROADCAST else LiveSession.State.LIVE
    try:
        with transaction.atomic():
            return LiveSession.objects.create(
                room=room,
                state=state,
                started_at=now,
                max_end_at=now + timedelta(seconds=room.max_session_hours * settings.SESSION_HOUR_SECONDS),
            )
    except IntegrityError:  # someone else opened it a moment ago
        return LiveSession.objects.open().get(room=room)


def join_session(*, room: Room, user: User, role: SessionRole, channel_name: str, fresh: bool = False) -> LiveSession:
    """Register one socket's presence; a returning host or moderator cancels the host-left time-out.

    `fresh`: a socket that just connected (its channel name is new), so its presence is inserted
    without looking first; a socket whose presence expired re-registers with `fresh=False`.
    """
    with transaction.atomic():
        session = open_or_create_session(room=room)
        fields = {"session": session, "user": user, "role": role, "last_seen": timezone.now()}
        if fresh:
            Presence.objects.create(channel_name=channel_name, **fields)
        else:
            Presence.objects.update_or_create(channel_name=channel_name, defaults=fields)
        if is_leader(role) and session.host_left_deadline is not None:
            LiveSession.objects.filter(pk=session.pk).update(host_left_deadline=None)
            session.host_left_deadline = None
    return session


def join_session_many(*, room: Room, joins: list[tuple[User, SessionRole, str]]) -> LiveSession:
    """`join_session(fresh=True)` for many new sockets of one room at once: (user, role, channel name) each.

    One transaction, one INSERT for all their presences: a join storm pays the session lookup and the
    commit once per batch instead of once per socket (rooms/joins.py).
    """
    with transaction.atomic():
        session = open_or_create_session(room=room)
        now = timezone.now()
        Presence.objects.bulk_create(
            Presence(channel_name=channel_name, session=session, user=user, role=role, last_seen=now)
            for user, role, channel_name in joins
        )
        if session.host_left_deadline is not None and any(is_leader(role) for _, role, _ in joins):
            LiveSession.objects.filter(pk=session.pk).update(host_left_deadline=None)
            session.host_left_deadline = None
    return session


def touch_presences(*, channel_names: list[str]) -> set[str]:
    """Refresh many sockets' presence at once; returns those that had expired (they should rejoin)."""
    found: set[str] = set()
    now = timezone.now()
    for i in range(0, len(channel_names), 500):
        chunk = channel_names[i : i + 500]
        found.update(Presence.objects.filter(channel_name__in=chunk).values_list("channel_name", flat=True))
        Presence.objects.filter(channel_name__in=chunk).update(last_seen=now)
    return set(channel_names) - found


def record_clock_probe(
    *, channel_name: str, server_sent: float, client_time: float, server_received: float
) -> float | None:
    """Keep the best (lowest round trip) estimate of server-minus-browser clock for this socket.

    The server measured both ends of the round trip itself; only the browser's one reading is taken
    from the client, the way NTP does.
    """
    rtt = server_received - server_sent
    if not (0 <= rtt <= 10) or abs(server_sent - time_now()) > 120:
        return None  # a reply to a probe we never sent, or far too late to be useful
    offset = (server_sent + server_received) / 2 - client_time
    presence = Presence.objects.filter(channel_name=channel_name).first()
    if presence is None:
        return None
    if presence.clock_rtt is None or rtt <= presence.clock_rtt * 1.5:
        Presence.objects.filter(pk=presence.pk).update(
            clock_offset=offset, clock_rtt=min(rtt, presence.clock_rtt or rtt)
        )
        return offset
    return presence.clock_offset


@dataclass(frozen=True)
class ClockProbe:
    """One socket's reply to a clock probe, as `record_clock_probe` takes it."""

    channel_name: str
    server_sent: float
    client_time: float
    server_received: float


def record_clock_probes(probes: list[ClockProbe]) -> None:
    """`record_clock_probe` for many sockets in one statement (every socket replies once on joining).

    The same rule per socket: a reply whose round trip is at most 1.5x the best so far replaces the
    estimate, and the best round trip is kept. Of several replies of one socket in a batch, the one
    with the lowest round trip is taken (the one the rule would end on, or a better one).
    """
    now = time_now()
    best: dict[str, tuple[float, float]] = {}  # channel -> (rtt, offset)
    for p in probes:
        rtt = p.server_received - p.server_sent
        if 0 <= rtt <= 10 and abs(p.server_sent - now) <= 120 and rtt < best.get(p.channel_name, (11.0, 0.0))[0]:
            best[p.channel_name] = (rtt, (p.server_sent + p.server_received) / 2 - p.client_time)
    if best:
        _save_clocks(best)


def _save_clocks(best: dict[str, tuple[float, float]]) -> None:
    """One UPDATE for many sockets' clocks. A join storm's clock replies cost a third of its database
    thread as ORM reads and bulk_update's CASE WHEN (docs/benchmarks.md). On PostgreSQL the statement
    is the same text whatever the batch's size (three arrays), so the driver parses it once."""
    table = connection.ops.quote_name(Presence._meta.db_table)
    channels, rtts, offsets = list(best), [v[0] for v in best.values()], [v[1] for v in best.values()]
    if connection.vendor == "postgresql":
        source = "unnest(%s::text[], %s::float8[], %s::float8[]) AS v(ch, off, rtt)"
        params: list[Any] = [channels, offsets, rtts]
        ch, off, rtt = "v.ch", "v.off", "v.rtt"
    else:  # SQLite (3.33+) names a VALUES list's columns column1, column2, ...
        source = f"(VALUES {', '.join(['(%s, %s, %s)'] * len(best))}) AS v"
        params = [value for row in zip(channels, offsets, rtts, strict=True) for value in row]
        ch, off, rtt = "v.column1", "v.column2", "v.column3"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET clock_offset = {off}, "
            f"clock_rtt = CASE WHEN {table}.clock_rtt IS NULL OR {rtt} < {table}.clock_rtt "
            f"THEN {rtt} ELSE {table}.clock_rtt END "
            f"FROM {source} WHERE {table}.channel_name = {ch} "
            f"AND ({table}.clock_rtt IS NULL OR {rtt} <= {table}.clock_rtt * 1.5)",
            params,
        )


def time_now() -> float:
    return timezone.now().timestamp()


def clock_offset_for(*, session_id: int, user_id: int) -> float | None:
    """The best measured clock offset of any open socket of this person in the session."""
    return (
        Presence.objects.filter(session_id=session_id, user_id=user_id, clock_offset__isnull=False)
        .order_by("clock_rtt")
        .values_list("clock_offset", flat=True)
        .first()
    )


def change_presence_role(*, channel_name: str, role: SessionRole) -> None:
    """An open socket's person got another role (promoted, demoted): its presence follows.

    A leader arriving cancels the host-left time-out, as a joining one does; the last leader
    demoted arms it, as a leaving one does. A presenter who may no longer present stops presenting,
    as one who leaves does.
    """
    with transaction.atomic():
        presence = Presence.objects.filter(channel_name=channel_name).select_related("session__room").first()
        if presence is None:
            return
        Presence.objects.filter(pk=presence.pk).update(role=role)
        if is_leader(role):
            LiveSession.objects.filter(pk=presence.session_id).update(host_left_deadline=None)
        else:
            _arm_host_left_deadline(session_ids=[presence.session_id])
        if not role_can(role, RoomAction.PRESENT, presence.session.room):
            stop_presentation(session=presence.session, presenter_id=presence.user_id)


def leave_session(*, channel_name: str) -> None:
    presence = Presence.objects.filter(channel_name=channel_name).select_related("session").first()
    if presence is None:
        return
    session = presence.session
    presence.delete()
    _arm_host_left_deadline(session_ids=[session.pk])
    _stop_presentations_of_gone([session.pk])


def _arm_host_left_deadline(*, session_ids: list[int]) -> None:
    """Sessions with no host or moderator present get the host-left deadline (if not already set)."""
    deadline = timezone.now() + timedelta(seconds=settings.HOST_LEFT_TIMEOUT_SECONDS)
    leaders_present = Presence.objects.filter(session_id__in=session_ids, role__in=LEADER_ROLES).values_list(
        "session_id", flat=True
    )
    (
        LiveSession.objects.open()
        .filter(pk__in=session_ids, host_left_deadline__isnull=True)
        .exclude(pk__in=leaders_present)
        .update(host_left_deadline=deadline)
    )


def expire_presences() -> int:
    """Sockets that stopped heartbeating (a crashed browser or Daphne) count as gone."""
    cutoff = timezone.now() - timedelta(seconds=settings.PRESENCE_TTL_SECONDS)
    stale: QuerySet[Presence] = Presence.objects.filter(last_seen__lt=cutoff)
    session_ids = list(stale.values_list("session_id", flat=True).distinct())
    count = stale.delete()[0]
    if session_ids:
        _arm_host_left_deadline(session_ids=session_ids)
        _stop_presentations_of_gone(session_ids)
    return count


def end_session(*, session: LiveSession, reason: str, by: User | None = None, close_room: bool = False) -> bool:
    """End the session for everyone; idempotent (False if it had ended already).

    `close_room` (broadcast rooms): the host closes the room completely, which is what lets the
    broadcast's recording appear (SPEC "Live broadcast rooms"). The apps above hear of it through
    `signals.session_ended`, inside this transaction (recordings stops its recording there).
    """
    close_room = close_room and session.room.mode == Room.Mode.BROADCAST
    if close_room:
        reason = LiveSession.EndReason.ROOM_CLOSED
    with transaction.atomic():
        ended = (
            LiveSession.objects.open()
            .filter(pk=session.pk)
            .update(
                state=LiveSession.State.ENDED,
                ended_at=timezone.now(),
                end_reason=reason,
                host_left_deadline=None,
                room_closed=close_room,
            )
        )
        if not ended:
            return False
        session.refresh_from_db()
        signals.session_ended.send(sender=LiveSession, session=session, reason=reason, by=by, room_closed=close_room)
        Presence.objects.filter(session=session).delete()
        Presentation.objects.filter(session=session, ended_at__isnull=True).update(ended_at=timezone.now())
        code = SESSION_ENDED_CODE.get(reason, "session_ended")
        events.send_on_commit(events.room_group(session.room_id), SessionEnded(reason=reason, text=NOTICES.text(code)))
    return True


def go_live(*, session: LiveSession) -> bool:
    """A broadcast leaves preview mode; idempotent."""
    went = LiveSession.objects.filter(pk=session.pk, state=LiveSession.State.PREVIEW).update(
        state=LiveSession.State.LIVE
    )
    if went:
        group = events.room_group(session.room_id)
        events.send_many_on_commit(
            [(group, SessionState(state=LiveSession.State.LIVE)), (group, NOTICES.notice("broadcast_live"))]
        )
    return bool(went)


def mark_room_closed(*, session_id: int) -> None:
    """Record on an ended session that its broadcast room was closed, so nothing of it is held again."""
    LiveSession.objects.ended().filter(pk=session_id).update(room_closed=True)


def close_room(*, room: Room, by: User) -> None:
    """Close a broadcast room completely: end an open session, mark every ended one closed.

    For a host who ended a broadcast without closing the room and then saw the held notice (SPEC:
    held recordings are shown to hosts). The recordings app releases what it held on
    `signals.room_closed`.
    """
    if room.mode != Room.Mode.BROADCAST:
        return
    with transaction.atomic():
        session = LiveSession.objects.open().filter(room=room).first()
        if session is not None:
            end_session(session=session, reason=LiveSession.EndReason.ROOM_CLOSED, by=by, close_room=True)
        LiveSession.objects.ended().filter(room=room).update(room_closed=True)
        signals.room_closed.send(sender=Room, room=room, by=by)


# --- Rooms opened from an integration (an LTI course's room: lti/, decision 0021) --------------------


def create_integration_room(*, title: str, creator: User) -> Room:
    """A single room opened from an integration; whoever opens it first owns it (SPEC "creator as owner")."""
    return Room.objects.create(
        title=title.strip()[:200] or "Course room",
        kind=Room.Kind.SINGLE,
        owner=creator,
        creator=creator,
        origin=Room.Origin.INTEGRATION,
    )


@transaction.atomic
def set_integration_role(*, room: Room, user: User, role: SessionRole) -> None:
    """Make `user`'s standing in an integration room give `role`, as the integration says.

    host: a co-editor (the owner too, so that every host of the course has access to every
    recording of its room: SPEC gives an integration room's recordings to their creator and the
    room's co-editors, not to the room's owner); moderator: a room moderator; participant: an
    invitee. The owner stays host whatever is said, and only these rows are touched: a
    co-publisher or co-viewer added in the product keeps that role unless the person must now
    host. Each write goes through the managers, so meetings.role_changes tells the person's open
    room sockets.
    """
    if room.kind != Room.Kind.SINGLE or (room.owner_id == user.pk and role != SessionRole.HOST):
        return
    collab = RoomCollaborator.objects.filter(room=room, user=user).first()
    if role == SessionRole.HOST:
        if collab is None or collab.role != CollaboratorRole.CO_EDITOR:
            RoomCollaborator.objects.update_or_create(
                room=room, user=user, defaults={"role": CollaboratorRole.CO_EDITOR}
            )
        room.moderators.remove(user)
        room.invitees.remove(user)
        return
    if collab is not None and collab.role == CollaboratorRole.CO_EDITOR:
        collab.delete()
    if role == SessionRole.MODERATOR:
        room.invitees.remove(user)
        room.moderators.add(user)
    else:
        room.moderators.remove(user)
        room.invitees.add(user)


# --- Invited speakers of a live broadcast (SPEC "The live meeting") ----------------------------------


class SpeakerError(Exception):
    """An invitation to speak that cannot be carried out; the message is safe to show."""


def set_speaker(*, session: LiveSession, user: User, speaker: bool, by: User) -> bool:
    """Invite `user` to speak in the broadcast `session`, or take it back; False if nothing changed.

    Their open room sockets re-ask the room policy (core.events.announce_access_change) and stay in the
    mesh sending, camera and microphone off until they turn them on, or stop sending. The invitation
    ends with the session: a viewer invited once is not a speaker of the next broadcast.
    """
    room = session.room
    if room.mode != Room.Mode.BROADCAST:
        raise SpeakerError("Only a live broadcast has speakers: in a meeting everyone may send.")
    role = session_role(user, room)
    if role is None:
        raise SpeakerError("That person is not in this session.")
    if is_leader(role):
        raise SpeakerError("Hosts and moderators are seen and heard already.")
    with transaction.atomic():
        if not LiveSession.objects.open().filter(pk=session.pk).exists():
            raise SpeakerError("The session has ended.")
        if speaker:
            _, changed = Speaker.objects.get_or_create(
                session=session, user=user, defaults={"invited_by": by, "invited_at": timezone.now()}
            )
        else:
            changed = Speaker.objects.filter(session=session, user=user).delete()[0] > 0
        if changed:
            events.announce_access_change(user_ids=[user.pk], room_id=room.pk)
    return changed


# --- Presentations (issue 11): an item of Media and Files on the stage --------------------------------
# The state is the Presentation row and its event log (docs/decisions/0025): one event at the start and
# one per change, read live by the browsers (PresentationState) and afterwards by the recording's
# compositor. The room's socket authorises (RoomAction.PRESENT) and media_library says what the item is.

# A seek past a day is garbage, not a position in a video from the library.
MAX_VIDEO_POSITION = 24 * 3600.0


class PresentationError(Exception):
    """A presentation command that cannot be carried out; the message is safe to show."""


@dataclass(frozen=True)
class PresentedItem:
    """What media_library found the entry to be: kind, title and the storage names to show."""

    kind: str
    entry_id: int
    title: str
    source: str = ""
    pages: list[str] = field(default_factory=list)


def _send_presentation(session: LiveSession, presentation: Presentation | None, last: PresentationEvent | None) -> None:
    events.send_on_commit(
        events.room_group(session.room_id), PresentationState(presentation=presentation_snapshot(presentation, last))
    )


def start_presentation(*, session: LiveSession, presenter: User, item: PresentedItem) -> Presentation:
    """Put `item` on the stage of `session`; whatever was presented before ends (the newest wins)."""
    if item.kind not in PresentationKind.values:
        raise PresentationError("That item cannot be presented.")
    if item.kind == PresentationKind.PDF and not item.pages:
        raise PresentationError("That PDF has no pages to show.")
    with transaction.atomic():
        # The session row is the lock: two hosts starting at once end up with one presentation.
        locked = LiveSession.objects.open().select_for_update().filter(pk=session.pk).first()
        if locked is None:
            raise PresentationError("The session has ended.")
        now = timezone.now()
        Presentation.objects.filter(session=locked, ended_at__isnull=True).update(ended_at=now)
        presentation = Presentation.objects.create(
            session=locked,
            presenter=presenter,
            kind=item.kind,
            entry_id=item.entry_id,
            title=item.title[:300],
            source=item.source if item.kind != PresentationKind.PDF else "",
            pages=list(item.pages) if item.kind == PresentationKind.PDF else [],
            started_at=now,
        )
        first = PresentationEvent.objects.create(
            presentation=presentation,
            at=now,
            page=1 if item.kind == PresentationKind.PDF else None,
            position=0.0 if item.kind == PresentationKind.VIDEO else None,
            playing=False,
        )
        _send_presentation(locked, presentation, first)
    return presentation


def _running(session: LiveSession, user: User) -> Presentation:
    """The session's presentation, locked, if `user` presents it (only the presenter turns and plays)."""
    presentation = (
        Presentation.objects.select_for_update(of=("self",))
        .filter(session_id=session.pk, ended_at__isnull=True)
        .select_related("presenter")
        .first()
    )
    if presentation is None:
        raise PresentationError("Nothing is being presented.")
    if presentation.presenter_id != user.pk:
        raise PresentationError("Only the person presenting can do that.")
    return presentation


def turn_page(*, session: LiveSession, user: User, page: int) -> PresentationEvent:
    """Show page `page` (1-based) of the presented PDF to everyone."""
    with transaction.atomic():
        presentation = _running(session, user)
        if presentation.kind != PresentationKind.PDF:
            raise PresentationError("Only a PDF has pages to turn.")
        if not 1 <= page <= len(presentation.pages):
            raise PresentationError(f"There is no page {page}: this PDF has {len(presentation.pages)}.")
        event = PresentationEvent.objects.create(presentation=presentation, at=timezone.now(), page=page)
        _send_presentation(session, presentation, event)
    return event


# How far back a presenter's own stamp of a video command may go (their page reads the position when the
# command leaves; the server may take a while to get to it). Older, or in the future: the server's now.
MAX_STAMP_AGE = timedelta(seconds=5)


def control_video(
    *, session: LiveSession, user: User, playing: bool, position: float, at: datetime | None = None
) -> PresentationEvent:
    """The presented video is at `position` seconds at `at` (the presenter's page's estimate of the server
    clock when it read the position; else now) and plays (or stands) from there, for everyone."""
    if not (0.0 <= position <= MAX_VIDEO_POSITION):
        raise PresentationError("A video position is a number of seconds from the start.")
    with transaction.atomic():
        presentation = _running(session, user)
        if presentation.kind != PresentationKind.VIDEO:
            raise PresentationError("Only a video can be played, paused or sought.")
        now = timezone.now()
        if at is None or not (now - MAX_STAMP_AGE <= at <= now):
            at = now
        last = presentation.events.order_by("-at", "-pk").values_list("at", flat=True).first()
        if last is not None and at < last:
            at = last  # the log stays in order
        event = PresentationEvent.objects.create(presentation=presentation, at=at, position=position, playing=playing)
        _send_presentation(session, presentation, event)
    return event


def stop_presentation(*, session: LiveSession, presenter_id: int | None = None) -> bool:
    """End the session's presentation (only `presenter_id`'s, if given); False if none ran."""
    with transaction.atomic():
        running = Presentation.objects.filter(session_id=session.pk, ended_at__isnull=True)
        if presenter_id is not None:
            running = running.filter(presenter_id=presenter_id)
        if not running.update(ended_at=timezone.now()):
            return False
        _send_presentation(session, None, None)
    return True


def _stop_presentations_of_gone(session_ids: list[int]) -> None:
    """Presenting stops when the presenter leaves: their last socket in the session is gone."""
    gone = (
        Presentation.objects.filter(session_id__in=session_ids, ended_at__isnull=True)
        .exclude(presenter_id__in=Presence.objects.filter(session_id=OuterRef("session_id")).values("user_id"))
        .select_related("session")
    )
    for presentation in gone:
        stop_presentation(session=presentation.session, presenter_id=presentation.presenter_id)
