"""`next` on the media library's state-changing POSTs (item 11): only a safe local path is followed.

`next=-1`, `next=x`, `next=my_media` were handed to `redirect()`, which tried to reverse them as
view names and failed with a 500 after the change had been saved. Now anything but a local path
on this site gives the action's default page; the change is saved either way.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_library.models import Folder, MediaEntry, RecordingNotice
from tests.library.conftest import make_recording

UNSAFE = [
    "-1",
    "x",
    "my_media",
    "media_library:my_media",
    "//evil.example/",
    "https://evil.example/",
    "http://testserver/my-media/",  # an absolute URL, even to ourselves: only paths are taken
    "/\\evil.example",
    "javascript:alert(1)",
    " ",
    "/" + "a" * 3000,
]


@pytest.mark.django_db
@pytest.mark.parametrize("unsafe", UNSAFE)
def test_entry_rename_and_delete_go_to_their_default_page(client, cast, publish, unsafe: str) -> None:
    entry = publish("single")
    client.force_login(cast.users["host"])  # the room's owner owns its recordings: may rename and delete
    response = client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "Renamed", "next": unsafe})
    assert response.status_code == 302 and response["Location"] == f"/media/{entry.pk}/"
    entry.refresh_from_db()
    assert entry.title == "Renamed"
    response = client.post(f"/media/{entry.pk}/delete/", {"confirm": "yes", "next": unsafe})
    assert response.status_code == 302 and response["Location"] == reverse("media_library:my_media")
    assert not MediaEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("unsafe", UNSAFE)
def test_room_media_actions_go_to_the_room_media_page(client, cast, unsafe: str) -> None:
    room = cast.room("single")
    client.force_login(cast.users["host"])
    name = f"Folder {len(unsafe)}-{abs(hash(unsafe)) % 1000}"
    response = client.post(f"/rooms/{room.pk}/media/", {"action": "create_folder", "name": name, "next": unsafe})
    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.pk}/media/"
    assert Folder.objects.filter(room=room, name=name).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("unsafe", UNSAFE)
def test_notice_seen_goes_home(client, cast, unsafe: str) -> None:
    user = cast.users["host"]
    recording = make_recording(cast.room("single"), user)
    notice = RecordingNotice.objects.create(user=user, recording=recording)
    client.force_login(user)
    response = client.post(f"/notices/{notice.pk}/seen/", {"next": unsafe})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    notice.refresh_from_db()
    assert notice.seen_at is not None


@pytest.mark.django_db
def test_a_local_path_is_followed(client, cast, publish) -> None:
    entry = publish("single")
    client.force_login(cast.users["starter"])
    response = client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "T", "next": "/my-media/?q=T"})
    assert response["Location"] == "/my-media/?q=T"
    room = cast.room("single")
    client.force_login(cast.users["host"])
    response = client.post(
        f"/rooms/{room.pk}/media/", {"action": "create_folder", "name": "Kept", "next": f"/rooms/{room.pk}/"}
    )
    assert response["Location"] == f"/rooms/{room.pk}/"
    # A GET of the delete page carries `next` into its form and cancel link only when it is safe.
    other = publish("single")
    page = client.get(f"/media/{other.pk}/delete/?next=https://evil.example/").content.decode()
    assert '<input type="hidden" name="next" value="/my-media/">' in page
    assert f'<a class="btn" href="/media/{other.pk}/">Cancel</a>' in page


@pytest.mark.django_db
def test_https_requests_keep_https(client, cast, publish) -> None:
    """require_https follows the request: over https, a local path is still just a path."""
    entry = publish("single")
    client.force_login(cast.users["starter"])
    response = client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "S", "next": "/my-media/"}, secure=True)
    assert response["Location"] == "/my-media/"
