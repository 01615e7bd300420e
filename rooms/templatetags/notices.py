from __future__ import annotations

from django import template

from rooms.notices import ALL

register = template.Library()


@register.simple_tag
def notice_text(code: str) -> str:
    """`{% notice_text "recording_confirm" %}`: a notice text from its one definition."""
    return ALL.text(code)
