"""Download links a program can fetch without credentials, until they expire: one for every edge.

The REST API hands them out (`GET /api/v1/entries/<id>/download-url/`) and so does the webhooks'
`recording.completed` (`download_url`). With S3, the link is the storage's own signed, expiring URL
(`storage.signed_url`; S3 serves Range itself). With the file system, it is our URL carrying a
signed (entry, person, time) value: fetching it checks the signature and its age, then asks the
policy again whether that person may still download the entry (a deleted entry, withdrawn access or
a deactivated person withdraws the link), and serves the file as the entry's download does (Range
support from `ranges`). The person is whoever the link was made for: the API's caller, or the
entry's owner for a webhook.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.core import signing
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from media_library import conf, permissions, ranges, services, storage
from media_library.models import MediaEntry
from media_library.permissions import Action
from meetings.models import User

SALT = "media_library.signed_download"

GONE = "This download link does not work: it has expired or its access was withdrawn. Ask for a new one."


class LinkGone(Exception):
    """The link is forged, expired, or no longer grants the file; the message is safe to show."""


def sign(*, entry: MediaEntry, user: User) -> str:
    """The signed value of our link (its time is when it was signed; the age is checked on fetch)."""
    return signing.dumps({"e": entry.pk, "u": user.pk}, salt=SALT, compress=True)


def signed_download_url(*, entry: MediaEntry, user: User, absolute: Callable[[str], str]) -> tuple[str, datetime]:
    """A credential-free URL of the entry's file and when it stops working.

    The caller checked that `user` may download `entry` now; `absolute` turns our path into a full
    URL (the request's `build_absolute_uri`, or the webhooks' configured site URL).
    """
    expires_at = timezone.now() + timedelta(seconds=conf.signed_url_seconds())
    backend, name = entry.file.storage, entry.file.name or ""
    if name and storage.local_path(backend, name) is None:
        disposition = content_disposition_header(True, services.entry_disposition_name(entry))
        assert disposition is not None  # None only inline without a filename; there is always one
        url = storage.signed_url(backend, name, content_type="application/octet-stream", disposition=disposition)
        return url, expires_at
    return absolute(reverse("media_library:signed_download", args=[sign(entry=entry, user=user)])), expires_at


def entry_for(value: str) -> MediaEntry:
    """The entry a link names, if the link is genuine, young enough, and its person may still download it."""
    try:
        data = signing.loads(value, salt=SALT, max_age=conf.signed_url_seconds())
        entry_id, user_id = int(data["e"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):  # SignatureExpired is a BadSignature
        raise LinkGone(GONE) from None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    entry = MediaEntry.objects.filter(pk=entry_id).first()
    # Asked again at each fetch: access withdrawn since the link was made withdraws the link too.
    if user is None or entry is None or not permissions.can(user, Action.DOWNLOAD, entry):
        raise LinkGone(GONE)
    return entry


def serve(request: HttpRequest, value: str) -> HttpResponseBase:
    """The file behind a link (200, 206 for a Range, 416), or LinkGone."""
    entry = entry_for(value)
    services.note_view(entry=entry)
    path = storage.local_path(entry.file.storage, entry.file.name) if entry.file.name else None
    if path is None:  # no file, or a remote storage (whose links are its own, never ours)
        raise LinkGone("This entry has no file here.")
    try:
        return ranges.file_response(
            request,
            path=path,
            content_type=entry.content_type or "application/octet-stream",
            filename=services.entry_disposition_name(entry),
            as_attachment=True,
        )
    except FileNotFoundError:
        raise LinkGone("The file of this entry is missing.") from None
