"""Unseen notices for the signed-in person, shown on the next page load: "recording available", and
the retention policy's "Your recording will be deleted on <date>" (docs/notices.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from django.http import HttpRequest

from media_library import selectors, services
from media_library.models import RecordingNotice, RetentionNotice
from meetings.models import User

N = TypeVar("N", RecordingNotice, RetentionNotice)


class PendingNotices(Generic[N]):
    """Loaded, and marked seen, only when a template actually shows them.

    A page that never renders base.html's notice area (an admin page, the Media and Files
    panel fragment) costs no query and does not swallow a notice the person never saw.
    """

    def __init__(
        self, user: User, load: Callable[[User], list[N]], mark_seen: Callable[[User, Iterable[int]], object]
    ) -> None:
        self._user = user
        self._load_rows: Callable[[User], list[N]] = load
        self._mark_seen: Callable[[User, Iterable[int]], object] = mark_seen
        self._rows: list[N] | None = None

    def _load(self) -> list[N]:
        if self._rows is None:
            self._rows = self._load_rows(self._user)
            if self._rows:
                self._mark_seen(self._user, [n.pk for n in self._rows])
        return self._rows

    def __iter__(self) -> Iterator[N]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())


def recording_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"recording_notices": (), "retention_notices": ()}
    return {
        "recording_notices": PendingNotices(
            user,
            lambda u: selectors.unseen_notices(user=u),
            lambda u, ids: services.mark_notices_seen(user=u, notice_ids=ids),
        ),
        "retention_notices": PendingNotices(
            user,
            lambda u: selectors.unseen_retention_notices(user=u),
            lambda u, ids: services.mark_retention_notices_seen(user=u, notice_ids=ids),
        ),
    }
