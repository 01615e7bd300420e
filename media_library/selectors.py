"""Reads for the media library. Every list starts from a permissions queryset; nothing here decides access."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from media_library import conf, permissions
from media_library.models import EntryCollaborator, Folder, MediaEntry, RecordingNotice, RetentionNotice, ShareLink
from meetings.models import Channel, ChannelMembership, Room, User
from recordings.models import Recording

NOTICES_SHOWN = 5
IN_PROGRESS_SHOWN = 12
MAX_QUERY_CHARS = 200


def clean_query(raw: str | None) -> str:
    # Control characters cannot match a title, and PostgreSQL refuses NUL outright.
    return "".join(ch for ch in (raw or "") if ch.isprintable()).strip()[:MAX_QUERY_CHARS]


def _search(entries: QuerySet[MediaEntry], q: str) -> QuerySet[MediaEntry]:
    return entries.filter(title__icontains=q) if q else entries


def _paged(entries: QuerySet[MediaEntry], page: str | int | None) -> Page:
    # get_page turns garbage ("abc", -3, 10**30) into the first or last page: no error to make.
    return Paginator(entries, conf.page_size()).get_page(page)


# The columns a card shows: sorting 10,000 full rows (descriptions, the owner's password hash...)
# to skip to a deep page costs more than the rest of the query.
CARD_FIELDS = (
    "title",
    "owner_id",
    "creator_id",
    "kind",
    "status",
    "file",
    "poster",
    "content_type",
    "duration",
    "size",
    "created_at",
    "source_recording_id",
    "room_id",
    "folder_id",
    "deleted_at",  # the policy asks it of every row (listed_actions): loaded, not fetched once per card
    "deletion_due_at",  # "Will be deleted on ..." on the owner's card
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
)


def _attach_my_roles(page: Page, user: User) -> Page:
    """Set `my_collab_role` on the page's entries with one indexed query for those rows only.

    Neither a correlated subquery (PostgreSQL computes it for every row it skips on its way to
    a deep page's OFFSET) nor a LEFT JOIN (a nested loop over thousands of rows when the
    planner misjudges a `LIKE '%q%'`) stays cheap on every page and every search.
    """
    entries = list(page.object_list)
    roles = (
        dict(
            EntryCollaborator.objects.filter(user=user, entry_id__in=[e.pk for e in entries]).values_list(
                "entry_id", "role"
            )
        )
        if entries
        else {}
    )
    for entry in entries:
        entry.my_collab_role = roles.get(entry.pk)
    page.object_list = entries
    return page


def my_media_page(*, user: User, q: str = "", page: str | int | None = 1) -> Page:
    """My Media, newest first: one COUNT and one SELECT however many entries there are."""
    entries = (
        _search(permissions.personal_entries(user), q)
        .select_related("owner")
        .only(*CARD_FIELDS)
        .order_by("-created_at", "-pk")
    )
    return _attach_my_roles(_paged(entries, page), user)


def member_channels(*, user: User) -> list[Channel]:
    """Channels whose Media tab `user` may open (owner or member), in one query."""
    return list(
        Channel.objects.filter(
            Q(owner=user) | Q(pk__in=ChannelMembership.objects.filter(user=user).values("channel_id"))
        ).order_by("name")
    )


def recordings_in_progress(*, user: User) -> list[Recording]:
    return list(
        permissions.recordings_in_progress(user).select_related("room").order_by("-created_at")[:IN_PROGRESS_SHOWN]
    )


def channel_media_page(*, user: User, channel: Channel, q: str = "", page: str | int | None = 1) -> Page:
    entries = (
        _search(permissions.channel_entries(user, channel), q)
        .select_related("owner")
        .only(*CARD_FIELDS)
        .order_by("-created_at", "-pk")
    )
    return _paged(entries, page)


@dataclass(frozen=True)
class RoomLibrary:
    room: Room
    folder: Folder | None
    breadcrumbs: list[Folder]
    folders: list[Folder]
    entries: Page


def room_library(*, user: User, room: Room, folder: Folder | None, page: str | int | None = 1) -> RoomLibrary:
    """One folder level of a room's Media and Files (the top level when folder is None)."""
    folders = list(Folder.objects.filter(room=room, parent=folder).order_by("kind", "name"))
    entries = (
        permissions.room_entries(user, room)
        .filter(folder=folder)
        .select_related("owner", "folder")
        .order_by("-created_at", "-pk")
    )
    entries_page = _attach_my_roles(_paged(entries, page), user)
    for entry in entries_page.object_list:
        actions = permissions.listed_actions(user, entry, collab_role=entry.my_collab_role)
        entry.can_rename = permissions.Action.RENAME in actions
        entry.can_delete = permissions.Action.DELETE in actions
    crumbs: list[Folder] = []
    node = folder
    while node is not None and len(crumbs) < 32:  # folder trees are shallow; the cap guards a cycle
        crumbs.insert(0, node)
        node = node.parent
    return RoomLibrary(room=room, folder=folder, breadcrumbs=crumbs, folders=folders, entries=entries_page)


def room_folder(*, room: Room, folder_id: int | None) -> Folder | None:
    if folder_id is None:
        return None
    return Folder.objects.filter(room=room, pk=folder_id).select_related("parent").first()


def entry_for_page(*, entry_id: int) -> MediaEntry | None:
    return (
        MediaEntry.objects.select_related("owner", "creator", "room", "folder", "source_recording")
        .filter(pk=entry_id)
        .first()
    )


def entry_collaborators(*, entry: MediaEntry) -> list[EntryCollaborator]:
    return list(entry.collaborators.select_related("user").order_by("role", "user__username"))


def live_share_links(*, entry: MediaEntry) -> list[ShareLink]:
    return list(
        entry.share_links.filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("created_by")
        .order_by("-created_at")
    )


def unseen_notices(*, user: User) -> list[RecordingNotice]:
    return list(
        RecordingNotice.objects.filter(user=user, seen_at__isnull=True)
        .select_related("entry")
        .order_by("-created_at", "-pk")[:NOTICES_SHOWN]
    )


def room_recordings_page(*, user: User, room: Room, q: str = "", page: str | int | None = 1) -> Page:
    """The recordings of one room that `user` may list, newest first (an LTI course's Media Gallery).

    SPEC's access to recordings, nothing more: visible_entries() decides; this only narrows to the room.
    """
    entries = (
        _search(permissions.visible_entries(user).filter(room=room, source_recording__isnull=False), q)
        .select_related("owner")
        .only(*CARD_FIELDS)
        .order_by("-created_at", "-pk")
    )
    return _attach_my_roles(_paged(entries, page), user)


def bin_page(*, user: User, page: str | int | None = 1) -> Page:
    """The recycle bin: `user`'s binned entries, most recently deleted first."""
    entries = (
        permissions.bin_entries(user)
        .select_related("owner", "deleted_by")
        .only(*CARD_FIELDS, "purge_after", "deleted_by__username", "deleted_by__display_name",
              "deleted_by__first_name", "deleted_by__last_name")
        .order_by("-deleted_at", "-pk")
    )  # fmt: skip
    return _paged(entries, page)


def binned_entry(*, entry_id: int) -> MediaEntry | None:
    return MediaEntry.all_objects.filter(pk=entry_id, deleted_at__isnull=False).first()


def unseen_retention_notices(*, user: User) -> list[RetentionNotice]:
    """ "Will be deleted on ..." notices not shown yet, for entries still out of the bin and still due."""
    return list(
        RetentionNotice.objects.filter(
            user=user, seen_at__isnull=True, entry__deleted_at__isnull=True, entry__deletion_due_at__isnull=False
        )
        .select_related("entry")
        .order_by("-created_at", "-pk")[:NOTICES_SHOWN]
    )
