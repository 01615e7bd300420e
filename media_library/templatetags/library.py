"""Small display helpers for the media library's templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from media_library.models import MediaEntry
    from meetings.models import User

register = template.Library()


@register.filter
def duration(seconds: float | int | None) -> str:
    """1:02:03 for an hour and more, 2:03 below; empty when unknown."""
    if seconds is None:
        return ""
    try:
        total = int(round(float(seconds)))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(max(total, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.simple_tag
def page_url(request: HttpRequest, page_number: int, base: str = "") -> str:
    """The current URL (or `base`) with only `page` changed, so search terms and the folder survive paging."""
    params = request.GET.copy()
    params.pop("panel", None)
    params["page"] = str(page_number)  # what urlencode() made of the int before
    return f"{base or ''}?{params.urlencode()}"


ROLE_LABELS = {"co_editor": "Co-editor", "co_publisher": "Co-publisher", "co_viewer": "Co-viewer"}


@register.simple_tag
def my_role(entry: MediaEntry, user: User | AnonymousUser) -> str:
    if entry.owner_id == user.pk:
        return "Owner"
    if entry.creator_id == user.pk:
        return "Creator"
    return ROLE_LABELS.get(getattr(entry, "my_collab_role", None) or "", "")
