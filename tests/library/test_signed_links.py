"""The media library's signed download link (media_library.signed_links), as any holder fetches it.

The API's download-url and the webhooks' recording.completed both hand out this link; their own
tests follow it through their edge (tests/api/test_entries.py, tests/webhooks/test_download_link.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from media_library import signed_links
from media_library.models import MediaEntry
from media_library.permissions import Action, can
from meetings.models import User
from tests.library.conftest import Cast

pytestmark = pytest.mark.django_db

GONE = "This download link does not work"


def link_path(entry: MediaEntry, user: User) -> str:
    url, _ = signed_links.signed_download_url(entry=entry, user=user, absolute=lambda path: f"https://x.test{path}")
    assert url.startswith("https://x.test/media/download/")
    return urlsplit(url).path


def test_the_link_serves_ranges_and_heads_and_refuses_everything_else(cast: Cast, publish) -> None:
    entry = publish("single")
    path = link_path(entry, entry.owner)
    anonymous = Client()
    with entry.file.open("rb") as fh:
        first = fh.read(16)

    part = anonymous.get(path, HTTP_RANGE="bytes=0-15")
    assert part.status_code == 206 and b"".join(part.streaming_content) == first
    assert part["Content-Disposition"].startswith("attachment")  # a download, never shown as a page
    head = anonymous.head(path)
    assert head.status_code == 200 and int(head["Content-Length"]) == entry.size
    assert anonymous.post(path).status_code == 405  # read-only (and no CSRF page: the link is the credential)

    refused = [
        path.replace("/download/", "/download/x", 1),  # tampered
        reverse("media_library:signed_download", args=["garbage"]),
        # Signed with another salt (say, an old API link): not ours.
        reverse("media_library:signed_download", args=[signing.dumps({"e": entry.pk, "u": entry.owner_id})]),
    ]
    for bad in refused:
        response = anonymous.get(bad)
        assert response.status_code == 404, bad
        assert GONE in response.content.decode()  # the media library's page, not a technical one
    assert anonymous.get("/media/download/" + "a" * 301 + "/").status_code == 404  # longer than any link


def test_a_link_grants_no_more_than_its_person_may(cast: Cast, publish) -> None:
    entry = publish("single")
    outsider = cast.users["outsider"]
    assert not can(outsider, Action.DOWNLOAD, entry)
    # Made for someone who may not download (a caller's mistake): fetching it still asks the policy.
    assert Client().get(link_path(entry, outsider)).status_code == 404
