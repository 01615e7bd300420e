"""Who may do what with a media entry: the only place that knows (SPEC.md "Access to recordings").

Every view, list, admin action and the publish step ask this module. Decisions and their
reasons: docs/decisions/0005-media-access.md. The policy is a table (POLICY): a person holds
some grants on an entry (owner, co-viewer, channel member, share link, ...) and an action is
allowed when one of its grants is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from media_library.models import ChannelPublication, EntryCollaborator, Folder, MediaEntry, ShareLink
from meetings import permissions as room_permissions
from meetings.models import Channel, ChannelMembership, CollaboratorRole, Room, RoomCollaborator, User
from meetings.permissions import RoomAction
from recordings.models import Recording

AnyUser = User | AnonymousUser


class Action(StrEnum):
    LIST = "list"
    VIEW = "view"
    STREAM = "stream"
    DOWNLOAD = "download"
    RENAME = "rename"
    SHARE = "share"
    DELETE = "delete"
    MANAGE_COLLABORATORS = "manage_collaborators"
    KEEP = "keep"  # restart the retention clock of an entry the policy is about to delete


class Grant(StrEnum):
    STAFF = "staff"
    OWNER = "owner"
    CREATOR = "creator"
    CO_EDITOR = "co_editor"
    CO_PUBLISHER = "co_publisher"
    CO_VIEWER = "co_viewer"
    CHANNEL_MEMBER = "channel_member"  # the entry is published to a channel the person belongs to
    ROOM_LEADER = "room_leader"  # a host or moderator of the room whose Media and Files hold an uploaded file
    SHARE_LINK = "share_link"  # holds a live share link of the entry


G = Grant
WITH_ACCESS = frozenset({G.STAFF, G.OWNER, G.CREATOR, G.CO_EDITOR, G.CO_PUBLISHER, G.CO_VIEWER})

POLICY: dict[Action, frozenset[Grant]] = {
    Action.LIST: WITH_ACCESS | {G.CHANNEL_MEMBER, G.ROOM_LEADER},
    Action.VIEW: WITH_ACCESS | {G.CHANNEL_MEMBER, G.ROOM_LEADER, G.SHARE_LINK},
    Action.STREAM: WITH_ACCESS | {G.CHANNEL_MEMBER, G.ROOM_LEADER, G.SHARE_LINK},
    Action.DOWNLOAD: WITH_ACCESS | {G.ROOM_LEADER},
    Action.RENAME: frozenset({G.STAFF, G.OWNER, G.CREATOR, G.CO_EDITOR}),
    Action.SHARE: frozenset({G.STAFF, G.OWNER, G.CREATOR, G.CO_EDITOR, G.CO_PUBLISHER}),
    Action.MANAGE_COLLABORATORS: frozenset({G.STAFF, G.OWNER}),
    Action.DELETE: frozenset({G.STAFF, G.OWNER}),
    Action.KEEP: frozenset({G.STAFF, G.OWNER}),
}


def _active(user: AnyUser | None) -> TypeGuard[User]:
    """A signed-in, active person (so a User: an AnonymousUser is never authenticated)."""
    return user is not None and user.is_authenticated and user.is_active


def live_share_link(entry: MediaEntry | None, token: str | None) -> ShareLink | None:
    """The share link behind `token` if it is neither revoked nor expired (and is for `entry`, if given)."""
    if not token or len(token) > 64:
        return None
    # A binned entry's links stop working (and work again if it is restored).
    links = ShareLink.objects.filter(token=token, revoked_at__isnull=True, entry__deleted_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    if entry is not None:
        links = links.filter(entry=entry)
    return links.select_related("entry").first()


def is_room_file(entry: MediaEntry) -> bool:
    """An uploaded file of a room's Media and Files (not a recording: recordings keep their own access)."""
    if entry.room_id is None or entry.source_recording_id is not None:
        return False
    folder = entry.folder  # None, without a query, when folder_id is None
    return folder is None or folder.kind == Folder.Kind.REGULAR


def _personal_grants(user: User, entry: MediaEntry) -> set[Grant]:
    """Grants read off the entry row itself: no query."""
    held: set[Grant] = set()
    if user.is_staff:
        held.add(G.STAFF)
    if entry.owner_id == user.pk:
        held.add(G.OWNER)
    if entry.creator_id == user.pk:
        held.add(G.CREATOR)
    return held


def grants(user: AnyUser | None, entry: MediaEntry, *, share_token: str | None = None) -> frozenset[Grant]:
    """Every grant `user` holds on `entry` (cheap checks first; each costs at most a query).

    None on an entry in the recycle bin: it is seen only in the bin (can_restore), by its owner and staff.
    """
    held: set[Grant] = set()
    if entry.deleted_at is not None:
        return frozenset()
    if _active(user):
        held |= _personal_grants(user, entry)
        role = EntryCollaborator.objects.filter(entry=entry, user=user).values_list("role", flat=True).first()
        if role is not None:
            held.add(Grant(role))
        if ChannelPublication.objects.filter(entry=entry, channel__in=_member_channels(user)).exists():
            held.add(G.CHANNEL_MEMBER)
        room = entry.room if is_room_file(entry) else None  # a room file has its room
        if room is not None and room_permissions.can(user, RoomAction.OPEN_MEDIA_AND_FILES, room):
            held.add(G.ROOM_LEADER)
    if share_token and live_share_link(entry, share_token) is not None:
        held.add(G.SHARE_LINK)
    return frozenset(held)


def allowed_actions(user: AnyUser | None, entry: MediaEntry, *, share_token: str | None = None) -> frozenset[Action]:
    """What the page may offer: every action allowed, from one computation of the grants."""
    held = grants(user, entry, share_token=share_token)
    return frozenset(action for action, needed in POLICY.items() if held & needed)


def listed_actions(user: AnyUser | None, entry: MediaEntry, *, collab_role: str | None) -> frozenset[Action]:
    """Actions for a row of a list, from facts the list query already loaded (no query per row).

    Counts only the grants a list knows (staff, owner, creator, the person's collaborator
    role); those are the only grants that allow more than viewing, so rename, share and
    delete buttons come out the same as can() would say.
    """
    held: set[Grant] = set()
    if _active(user) and entry.deleted_at is None:
        held |= _personal_grants(user, entry)
        if collab_role in CollaboratorRole.values:
            held.add(Grant(collab_role))
    return frozenset(action for action, needed in POLICY.items() if held & needed)


def can(user: AnyUser | None, action: Action | str, entry: MediaEntry, share_token: str | None = None) -> bool:
    """May `user` (or whoever holds `share_token`) do `action` to `entry`? Unknown actions are refused."""
    try:
        needed = POLICY[Action(action)]
    except ValueError:
        return False
    return bool(grants(user, entry, share_token=share_token) & needed)


# --- Querysets: every list of entries goes through these -----------------------------------------


def _member_channels(user: User) -> QuerySet[Channel, Mapping[str, object]]:
    """The pks of the channels `user` belongs to (owner or member), for a `channel__in` subquery."""
    return Channel.objects.filter(
        Q(owner=user) | Q(pk__in=ChannelMembership.objects.filter(user=user).values("channel_id"))
    ).values("pk")


def _personal_q(user: User) -> Q:
    return Q(owner=user) | Q(creator=user) | Q(pk__in=EntryCollaborator.objects.filter(user=user).values("entry_id"))


def visible_entries(user: AnyUser | None) -> QuerySet[MediaEntry]:
    """Every entry `user` may list (Action.LIST), except a room's shared uploads, listed per room by room_entries()."""
    if not _active(user):
        return MediaEntry.objects.none()
    if user.is_staff:
        return MediaEntry.objects.all()
    published = Q(pk__in=ChannelPublication.objects.filter(channel__in=_member_channels(user)).values("entry_id"))
    return MediaEntry.objects.filter(_personal_q(user) | published)


def personal_entries(user: AnyUser | None) -> QuerySet[MediaEntry]:
    """My Media: what `user` owns, created or collaborates on (staff included: their own only).

    A subset of visible_entries() by construction (those grants all allow LIST); written on
    its own so the database does not evaluate the channel part for nothing.
    """
    if not _active(user):
        return MediaEntry.objects.none()
    return MediaEntry.objects.filter(_personal_q(user))


def can_view_channel_media(user: AnyUser | None, channel: Channel) -> bool:
    """The channel's Media tab is for its members (the owner and every ChannelMembership) and staff."""
    if not _active(user):
        return False
    if user.is_staff or channel.owner_id == user.pk:
        return True
    return ChannelMembership.objects.filter(channel=channel, user=user).exists()


def channel_entries(user: AnyUser | None, channel: Channel) -> QuerySet[MediaEntry]:
    if not can_view_channel_media(user, channel):
        return MediaEntry.objects.none()
    return MediaEntry.objects.filter(pk__in=ChannelPublication.objects.filter(channel=channel).values("entry_id"))


def room_files_q() -> Q:
    return Q(source_recording__isnull=True) & (Q(folder__isnull=True) | Q(folder__kind=Folder.Kind.REGULAR))


def room_entries(user: AnyUser | None, room: Room) -> QuerySet[MediaEntry]:
    """A room's Media and Files as `user` sees it: uploads for every host and moderator,
    recordings (in the Recordings folder) only for those with access to them."""
    if not _active(user) or not room_permissions.can(user, RoomAction.OPEN_MEDIA_AND_FILES, room):
        return MediaEntry.objects.none()
    in_room = MediaEntry.objects.filter(room=room)
    if user.is_staff:
        return in_room
    return in_room.filter(room_files_q() | Q(pk__in=visible_entries(user).values("pk")))


def can_present(user: AnyUser | None, entry: MediaEntry, room: Room) -> bool:
    """May `user` present `entry` on the stage of `room` (issue 11)? A host or moderator (RoomAction.PRESENT),
    with an item of the room's own Media and Files that they may stream."""
    if not _active(user) or entry.room_id != room.pk or not room_permissions.can(user, RoomAction.PRESENT, room):
        return False
    return can(user, Action.STREAM, entry)


# --- The recycle bin: its owner's and staff's only ------------------------------------------------


def can_restore(user: AnyUser | None, entry: MediaEntry) -> bool:
    """May `user` see this binned entry in the bin and restore it? Its owner and staff (SPEC: who may delete)."""
    return entry.deleted_at is not None and _active(user) and (user.is_staff or entry.owner_id == user.pk)


def bin_entries(user: AnyUser | None) -> QuerySet[MediaEntry]:
    """The recycle bin page: `user`'s own binned entries (staff see everyone's in the admin)."""
    if not _active(user):
        return MediaEntry.objects.none()
    return MediaEntry.all_objects.filter(deleted_at__isnull=False, owner=user)


# --- Recordings: who gets access when one is published (SPEC.md table) ---------------------------


@dataclass(frozen=True)
class RecordingAccess:
    owner_id: int
    creator_id: int
    co_editor_ids: frozenset[int]
    co_publisher_ids: frozenset[int]

    @property
    def user_ids(self) -> frozenset[int]:
        return frozenset({self.owner_id, self.creator_id}) | self.co_editor_ids | self.co_publisher_ids


def recording_owner_id(room: Room, starter_id: int) -> int:
    if room.origin == Room.Origin.INTEGRATION:
        return starter_id  # SPEC: a room from an integration records with the creator as owner
    if room.kind == Room.Kind.CHANNEL and room.channel is not None:
        return room.channel.owner_id
    return room.owner_id


def recording_access(recording: Recording) -> RecordingAccess:
    room = recording.room
    roles = RoomCollaborator.objects.filter(
        room=room, role__in=[CollaboratorRole.CO_EDITOR, CollaboratorRole.CO_PUBLISHER]
    ).values_list("user_id", "role")
    return RecordingAccess(
        owner_id=recording_owner_id(room, recording.started_by_id),
        creator_id=recording.started_by_id,
        co_editor_ids=frozenset(uid for uid, role in roles if role == CollaboratorRole.CO_EDITOR),
        co_publisher_ids=frozenset(uid for uid, role in roles if role == CollaboratorRole.CO_PUBLISHER),
    )


def recordings_in_progress(user: AnyUser | None) -> QuerySet[Recording]:
    """Unpublished recordings `user` will have access to once published (for My Media's progress bars),
    and failed ones, with their reason.

    The same rule as recording_access(), written as one query.
    """
    if not _active(user):
        return Recording.objects.none()
    native = Q(room__origin=Room.Origin.NATIVE)
    would_own = native & (
        Q(room__kind=Room.Kind.SINGLE, room__owner=user) | Q(room__kind=Room.Kind.CHANNEL, room__channel__owner=user)
    )
    collaborates = Q(
        room_id__in=RoomCollaborator.objects.filter(
            user=user, role__in=[CollaboratorRole.CO_EDITOR, CollaboratorRole.CO_PUBLISHER]
        ).values("room_id")
    )
    return (
        Recording.objects.not_published()
        .filter(entry__isnull=True)
        .filter(Q(started_by=user) | would_own | collaborates)
    )
