"""Where an entry page was opened from, for its breadcrumb and the way back.

Links to an entry carry `?from=<origin>`: "my-media", "channel:<slug>" or "room:<id>". The
value is only ever a key looked up here, never a URL (no open redirect), and it is honoured only
when the viewer may see that place and the entry is really there (published to that channel,
held in that room's Media and Files); anything else falls back to where the entry lives for
this viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from media_library import permissions
from media_library.models import ChannelPublication, MediaEntry
from meetings import permissions as room_permissions
from meetings.models import Channel, User
from meetings.permissions import RoomAction

MY_MEDIA = "my-media"
CHANNEL_PREFIX = "channel:"
ROOM_PREFIX = "room:"
# Longer than any key we make (a slug is at most 50 characters); a longer value is garbage.
ORIGIN_MAX_LENGTH = 80


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str


@dataclass(frozen=True)
class Origin:
    """A place an entry is listed: its `from` key and the breadcrumb trail leading to it."""

    key: str
    crumbs: tuple[Crumb, ...]

    @property
    def url(self) -> str:
        """The list to go back to (the last crumb)."""
        return self.crumbs[-1].url


def my_media() -> Origin:
    return Origin(MY_MEDIA, (Crumb("My Media", reverse("media_library:my_media")),))


def channel_origin(channel: Channel) -> Origin:
    return Origin(
        f"{CHANNEL_PREFIX}{channel.slug}",
        (Crumb(f"{channel.name} · Media", reverse("media_library:channel_media", args=[channel.slug])),),
    )


def _personal(user: User, entry: MediaEntry) -> bool:
    """Listed in the viewer's My Media (owner, creator or collaborator)."""
    return permissions.personal_entries(user).filter(pk=entry.pk).exists()


def _channel(user: User, entry: MediaEntry, slug: str | None) -> Origin | None:
    """A channel the entry is published to and whose Media tab the viewer may open (that one, if named)."""
    publications = ChannelPublication.objects.filter(entry=entry).select_related("channel").order_by("channel__name")
    if slug is not None:
        publications = publications.filter(channel__slug=slug)
    for publication in publications:
        if permissions.can_view_channel_media(user, publication.channel):
            return channel_origin(publication.channel)
    return None


def _room(user: User, entry: MediaEntry) -> Origin | None:
    """The entry's room's Media and Files, if the viewer may open it and sees the entry listed there."""
    room = entry.room
    if room is None or not room_permissions.can(user, RoomAction.OPEN_MEDIA_AND_FILES, room):
        return None
    if not permissions.room_entries(user, room).filter(pk=entry.pk).exists():
        return None
    media_url = reverse("media_library:room_media", args=[room.pk])
    crumbs = [Crumb(room.title, reverse("room", args=[room.pk])), Crumb("Media and Files", media_url)]
    if entry.folder is not None:
        crumbs.append(Crumb(entry.folder.name, f"{media_url}?folder={entry.folder.pk}"))
    return Origin(f"{ROOM_PREFIX}{room.pk}", tuple(crumbs))


def _requested(user: User, entry: MediaEntry, raw: str) -> Origin | None:
    if raw == MY_MEDIA:
        return my_media() if _personal(user, entry) else None
    if raw.startswith(CHANNEL_PREFIX):
        return _channel(user, entry, raw.removeprefix(CHANNEL_PREFIX))
    if raw.startswith(ROOM_PREFIX):
        room_id = raw.removeprefix(ROOM_PREFIX)
        if room_id.isdigit() and len(room_id) <= 18 and entry.room_id == int(room_id):
            return _room(user, entry)
    return None


def entry_origin(user: User, entry: MediaEntry, raw: str | None) -> Origin:
    """The origin named by `raw` if valid for this viewer and entry, else where the entry lives for them.

    Where it lives: My Media when it is theirs, else a channel they see it in, else its room's
    Media and Files; My Media (the library's home) when none of these applies (staff looking on).
    """
    raw = (raw or "").strip()
    if raw and len(raw) <= ORIGIN_MAX_LENGTH:
        requested = _requested(user, entry, raw)
        if requested is not None:
            return requested
    if _personal(user, entry):
        return my_media()
    return _channel(user, entry, None) or _room(user, entry) or my_media()
