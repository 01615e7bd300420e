"""Reads of the API app. Access is decided by the apps' policies (api/access.py asks them)."""

from __future__ import annotations

from django.db.models import QuerySet

from api.models import ApiToken
from media_library import permissions as entry_permissions
from media_library import selectors as library_selectors
from media_library.models import MediaEntry
from meetings.models import Room, User
from recordings.models import Recording


def tokens_of(*, user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-pk"))


def entries_for(*, user: User, q: str = "") -> QuerySet[MediaEntry]:
    """The entries `user` may list, newest first, optionally searched by title (as My Media searches)."""
    entries = entry_permissions.visible_entries(user).select_related("owner", "source_recording")
    clean = library_selectors.clean_query(q)
    if clean:
        entries = entries.filter(title__icontains=clean)
    return entries.order_by("-created_at", "-pk")


def room_recordings(*, room: Room) -> QuerySet[Recording]:
    """A room's recordings, newest first, with the entry each became (if published)."""
    return Recording.objects.filter(room=room).select_related("entry").order_by("-created_at", "-pk")
