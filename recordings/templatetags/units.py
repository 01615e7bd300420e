"""How the product prints a duration and a size: one rule, used by every page and the admin.

Lives in recordings (the lowest app that shows durations: its admin) so the media library's
templates and both admins share it without an upward import.
"""

from __future__ import annotations

import math

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


@register.filter
def duration(seconds: float | int | str | None) -> str:
    """Whole seconds, truncated: 61.57 s is "1:01", an hour and more "1:02:03"; empty when unknown.

    Truncated, not rounded, because that is what the player shows: Chromium's media controls
    print the whole seconds of the media's duration, so a 61.57 s recording reads 1:01 there
    and must read 1:01 in its details too.
    """
    if seconds is None or seconds == "":
        return ""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ""
    total = max(int(value), 0)  # int() truncates toward zero; a negative is garbage shown as 0:00
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def size(num_bytes: int | None) -> str:
    """A readable size ("3.2 MB", powers of 1024 as Django's filesizeformat); empty when unknown."""
    if num_bytes is None:
        return ""
    return str(filesizeformat(num_bytes))
