"""Small display helpers for the media library's templates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime

from media_library import conf, notices
from recordings.templatetags.units import duration as format_duration

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from media_library.models import MediaEntry
    from meetings.models import User

register = template.Library()


# The product's one rule for durations (whole seconds, truncated like the player), shared with the admin.
duration = register.filter("duration", format_duration)


@register.filter
def presentable(entry: MediaEntry) -> bool:
    """Whether the room's panel offers "Present" for this row (the socket asks the policy again)."""
    from media_library.presenting import presented_kind

    return entry.status == "ready" and bool(entry.file) and presented_kind(entry) is not None


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


@register.simple_tag
def entry_url(entry: MediaEntry, origin: str = "") -> str:
    """An entry's page, saying where it was opened from (`from`, see media_library/origins.py)."""
    url = reverse("media_library:entry", args=[entry.pk])
    return f"{url}?{urlencode({'from': origin}, safe=':')}" if origin else url


@register.simple_tag
def library_text(code: str, date: datetime | None = None, days: int | None = None) -> str:
    """`{% library_text "retention_due" date=entry.deletion_due_at %}`: a library text, filled in."""
    shown = date_format(localtime(date), "M j, Y") if date is not None else ""
    return notices.fill(code, date=shown, days=days if days is not None else conf.recycle_bin_days())
