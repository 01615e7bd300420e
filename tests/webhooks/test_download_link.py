"""recording.completed's download_url with file-system storage: the media library's signed link.

It downloads the file without any credential, stops working once its lifetime has passed, and is
made for the entry's owner, whose right to download is asked again at each fetch: an owner who
loses access, or an entry deleted, kills it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from media_library import conf as library_conf
from media_library import services as library_services
from tests.library.conftest import (  # noqa: F401 (fixtures)
    base_mp4,
    cast,
    library_settings,
    mp4_file,
    publish,
)
from webhooks import services

pytestmark = pytest.mark.django_db


def fetch(url: str) -> tuple[int, bytes]:
    """GET the link as a program holding nothing else would: a fresh client, no session, no token."""
    response = Client().get(urlsplit(url).path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def test_the_completed_download_url_works_without_credentials_until_expiry_or_lost_access(
    cast,  # noqa: F811
    publish,  # noqa: F811
    receiver,
    settings,
) -> None:
    room = cast.room("single")
    endpoint = services.create_endpoint(url=receiver.url, room=room, events=["recording.completed"], created_by=None)
    receiver.secrets.append(endpoint.secret)

    entry = publish("single")
    (hit,) = receiver.of_type("recording.completed")
    data = hit.verified["data"]["entry"]
    assert data["id"] == entry.pk
    url = data["download_url"]
    assert url.startswith("https://meetings.example.test/media/download/")  # WEBHOOK_SITE_URL, our signed link
    expires_at = datetime.fromisoformat(data["download_url_expires_at"])
    lifetime = library_conf.signed_url_seconds()
    assert abs(expires_at - (timezone.now() + timedelta(seconds=lifetime))) < timedelta(seconds=30)

    with entry.file.open("rb") as fh:
        stored = fh.read()
    assert fetch(url) == (200, stored)  # no session, no token: the link is the credential

    # Its lifetime passed: the signer's age check refuses it (the signature carries whole seconds).
    settings.MEDIA_URL_TTL_SECONDS = 1
    time.sleep(1.1)
    status, body = fetch(url)
    assert status == 404 and b"This download link does not work" in body
    settings.MEDIA_URL_TTL_SECONDS = lifetime  # the lifetime it was made with: the same link works again
    assert fetch(url)[0] == 200

    # The owner loses access (deactivated): the link stops; access back, it works again.
    owner = entry.owner
    assert owner == room.owner
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert fetch(url)[0] == 404
    owner.is_active = True
    owner.save(update_fields=["is_active"])
    assert fetch(url)[0] == 200

    library_services.delete_entry(entry=entry)  # deleted: the link dies with it
    assert fetch(url)[0] == 404
