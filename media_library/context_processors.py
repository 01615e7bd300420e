"""Unseen "recording available" notices for the signed-in person, shown on the next page load."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest

from media_library import selectors, services
from media_library.models import RecordingNotice
from meetings.models import User


class PendingNotices:
    """Loaded, and marked seen, only when a template actually shows them.

    A page that never renders base.html's notice area (an admin page, the Media and Files
    panel fragment) costs no query and does not swallow a notice the person never saw.
    """

    def __init__(self, user: User) -> None:
        self._user = user
        self._rows: list[RecordingNotice] | None = None

    def _load(self) -> list[RecordingNotice]:
        if self._rows is None:
            self._rows = selectors.unseen_notices(user=self._user)
            if self._rows:
                services.mark_notices_seen(user=self._user, notice_ids=[n.pk for n in self._rows])
        return self._rows

    def __iter__(self) -> Iterator[RecordingNotice]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())


def recording_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"recording_notices": ()}
    return {"recording_notices": PendingNotices(user)}
