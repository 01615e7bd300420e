"""A room's Media and Files: who may open it, upload, folders, rename, delete, the panel fragment."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from media_library import permissions
from media_library.models import Folder, MediaEntry


def upload(client, room, name: str, data: bytes, content_type: str = "application/octet-stream", **extra):
    return client.post(
        f"/rooms/{room.pk}/media/",
        {"action": "upload", "file": SimpleUploadedFile(name, data, content_type=content_type), **extra},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who,status",
    [
        ("host", 200),
        ("coeditor", 200),
        ("moderator", 200),
        ("admin", 404),
        ("participant", 404),
        ("outsider", 404),
    ],
)
def test_only_hosts_and_moderators_open_it(client, cast, who: str, status: int) -> None:
    room = cast.room("single")
    client.force_login(cast.users[who])
    assert client.get(f"/rooms/{room.pk}/media/").status_code == status
    assert client.get(f"/rooms/{room.pk}/media/panel/").status_code == status
    assert client.post(f"/rooms/{room.pk}/media/", {"action": "create_folder", "name": "x"}).status_code in (
        404 if status == 404 else 302,
    )


@pytest.mark.django_db
def test_channel_room_leaders_open_it(client, cast) -> None:
    room = cast.room("channel")
    for who, status in (("host", 200), ("moderator", 200), ("member", 404), ("participant", 404)):
        client.force_login(cast.users[who])
        assert client.get(f"/rooms/{room.pk}/media/").status_code == status, who


@pytest.mark.django_db
def test_recordings_folder_shows_recordings_only_to_people_with_access(client, cast, publish) -> None:
    entry = publish("single")
    room = cast.room("single")
    folder = entry.folder
    client.force_login(cast.users["host"])
    top = client.get(f"/rooms/{room.pk}/media/").content.decode()
    assert "Recordings" in top and f"?folder={folder.pk}" in top
    inside = client.get(f"/rooms/{room.pk}/media/?folder={folder.pk}").content.decode()
    link = f'href="/media/{entry.pk}/?from=room:{room.pk}"'  # its breadcrumb leads back to this room
    assert link in inside and 'data-stream-url="/media/' in inside
    client.force_login(cast.users["moderator"])  # a leader, but without access to this recording
    inside = client.get(f"/rooms/{room.pk}/media/?folder={folder.pk}").content.decode()
    assert f'href="/media/{entry.pk}/' not in inside and "appear here once" in inside


@pytest.mark.django_db
def test_upload_stores_the_file_and_guesses_the_kind(client, cast, base_mp4) -> None:
    room = cast.room("single")
    client.force_login(cast.users["moderator"])
    response = upload(client, room, "slides.pdf", b"%PDF-1.4 hello", "application/pdf")
    assert response.status_code == 302 and response["Location"] == f"/rooms/{room.pk}/media/"
    pdf = MediaEntry.objects.get(title="slides.pdf")
    assert pdf.kind == MediaEntry.Kind.DOCUMENT and pdf.content_type == "application/pdf" and pdf.size == 14
    assert pdf.owner == cast.users["moderator"] and pdf.room == room and pdf.folder is None
    assert default_storage.open(pdf.file.name).read() == b"%PDF-1.4 hello"
    assert upload(client, room, "clip.mp4", base_mp4.read_bytes(), "video/mp4").status_code == 302
    clip = MediaEntry.objects.get(title="clip.mp4")
    assert clip.kind == MediaEntry.Kind.VIDEO and clip.duration and clip.poster  # probed and postered with PyAV
    assert upload(client, room, "photo.PNG", b"\x89PNG....", "image/png").status_code == 302
    assert MediaEntry.objects.get(title="photo.PNG").kind == MediaEntry.Kind.IMAGE
    assert upload(client, room, "notes", b"plain", "text/plain").status_code == 302
    assert MediaEntry.objects.get(title="notes").kind == MediaEntry.Kind.DOCUMENT
    assert upload(client, room, "blob.bin", b"\x00\x01").status_code == 302
    assert MediaEntry.objects.get(title="blob.bin").kind == MediaEntry.Kind.OTHER


@pytest.mark.django_db
def test_uploaded_files_are_shared_with_the_rooms_leaders_only(client, cast) -> None:
    room = cast.room("single")
    client.force_login(cast.users["moderator"])
    upload(client, room, "agenda.txt", b"1. recording", "text/plain")
    entry = MediaEntry.objects.get(title="agenda.txt")
    client.force_login(cast.users["host"])  # another leader sees and opens it
    assert f'href="/media/{entry.pk}/?from=room:{room.pk}"' in client.get(f"/rooms/{room.pk}/media/").content.decode()
    assert client.get(f"/media/{entry.pk}/stream/").status_code == 200
    assert client.get(f"/media/{entry.pk}/download/").status_code == 200
    assert client.post(f"/media/{entry.pk}/delete/", {"confirm": "yes"}).status_code == 403  # not the owner
    assert client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "x"}).status_code == 403
    for who in ("participant", "outsider"):
        client.force_login(cast.users[who])
        assert client.get(f"/media/{entry.pk}/").status_code == 404
        assert not permissions.can(cast.users[who], "view", entry)


@pytest.mark.django_db
def test_an_uploaded_html_file_is_never_served_inline(client, cast) -> None:
    room = cast.room("single")
    client.force_login(cast.users["host"])
    upload(client, room, "evil.html", b"<script>alert(1)</script>", "text/html")
    entry = MediaEntry.objects.get(title="evil.html")
    response = client.get(f"/media/{entry.pk}/stream/")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Security-Policy"] == "sandbox"


@pytest.mark.django_db
def test_upload_limits_and_bad_uploads(client, cast, settings) -> None:
    room = cast.room("single")
    client.force_login(cast.users["host"])
    settings.MEDIA_UPLOAD_MAX_BYTES = 1000
    response = upload(client, room, "big.bin", b"x" * 1001)
    assert response.status_code == 413 and b"larger than the upload limit" in response.content
    settings.MEDIA_UPLOAD_MAX_BYTES = 10  # a declared length far over the limit is refused before parsing
    huge = upload(client, room, "huge.bin", b"x" * (2 * 1024 * 1024))
    assert huge.status_code == 413
    settings.MEDIA_UPLOAD_MAX_BYTES = 10**6
    assert client.post(f"/rooms/{room.pk}/media/", {"action": "upload"}).status_code == 400  # no file
    assert upload(client, room, "empty.txt", b"").status_code == 400
    assert upload(client, room, "x.txt", b"x", folder="999999").status_code == 400
    assert upload(client, room, "x.txt", b"x", folder="abc").status_code == 400
    recordings = Folder.objects.get(room=room, kind=Folder.Kind.RECORDINGS)  # made with the room
    assert upload(client, room, "x.txt", b"x", folder=str(recordings.pk)).status_code == 400
    other_room_folder = Folder.objects.create(room=cast.room("integration"), name="Theirs")
    assert upload(client, room, "x.txt", b"x", folder=str(other_room_folder.pk)).status_code == 400
    assert not MediaEntry.objects.exists()


@pytest.mark.django_db
def test_folders_create_rename_delete(client, cast) -> None:
    room = cast.room("single")
    url = f"/rooms/{room.pk}/media/"
    client.force_login(cast.users["coeditor"])
    assert client.post(url, {"action": "create_folder", "name": "  Slides  "}).status_code == 302
    slides = Folder.objects.get(room=room, name="Slides")
    assert client.post(url, {"action": "create_folder", "name": "slides"}).status_code == 400  # duplicate
    assert client.post(url, {"action": "create_folder", "name": "recordings"}).status_code == 400  # reserved
    assert client.post(url, {"action": "create_folder", "name": ""}).status_code == 400
    assert client.post(url, {"action": "create_folder", "name": "x" * 201}).status_code == 400
    assert client.post(url, {"action": "create_folder", "name": "Week 1", "folder": slides.pk}).status_code == 302
    week = Folder.objects.get(parent=slides)
    page = client.get(f"{url}?folder={week.pk}").content.decode()
    assert "Slides" in page and "Week 1" in page  # breadcrumbs
    assert client.post(url, {"action": "rename_folder", "folder_id": slides.pk, "name": "Decks"}).status_code == 302
    slides.refresh_from_db()
    assert slides.name == "Decks"
    assert client.post(url, {"action": "delete_folder", "folder_id": slides.pk}).status_code == 400  # not empty
    assert client.post(url, {"action": "delete_folder", "folder_id": week.pk}).status_code == 302
    assert client.post(url, {"action": "delete_folder", "folder_id": slides.pk}).status_code == 302
    # Only the Recordings folder is left: every room has it from creation, and it cannot go.
    recordings = Folder.objects.get(room=room)
    assert recordings.kind == Folder.Kind.RECORDINGS
    assert client.post(url, {"action": "rename_folder", "folder_id": recordings.pk, "name": "X"}).status_code == 400
    assert client.post(url, {"action": "delete_folder", "folder_id": recordings.pk}).status_code == 400
    assert client.post(url, {"action": "delete_folder", "folder_id": "nope"}).status_code == 400
    assert client.post(url, {"action": "delete_folder"}).status_code == 400


@pytest.mark.django_db
def test_rename_and_delete_entries_from_media_and_files(
    client, cast, publish, django_capture_on_commit_callbacks
) -> None:
    room = cast.room("single")
    url = f"/rooms/{room.pk}/media/"
    client.force_login(cast.users["moderator"])
    upload(client, room, "draft.txt", b"draft", "text/plain")
    entry = MediaEntry.objects.get(title="draft.txt")
    assert client.post(url, {"action": "rename_entry", "entry_id": entry.pk, "title": "Final notes"}).status_code == 302
    entry.refresh_from_db()
    assert entry.title == "Final notes"
    assert client.post(url, {"action": "rename_entry", "entry_id": entry.pk, "title": "  "}).status_code == 400
    recording = publish("single")
    assert client.post(url, {"action": "rename_entry", "entry_id": recording.pk, "title": "x"}).status_code == 404
    assert client.post(url, {"action": "rename_entry", "entry_id": "12abc", "title": "x"}).status_code == 404
    client.force_login(cast.users["host"])
    assert client.post(url, {"action": "rename_entry", "entry_id": entry.pk, "title": "x"}).status_code == 403

    # Delete: a confirmation step, then the entry goes to its owner's recycle bin (its file is
    # removed when the bin is purged: tests/library/test_retention.py).
    client.force_login(cast.users["moderator"])
    confirm = client.get(f"/media/{entry.pk}/delete/?next={url}")
    assert confirm.status_code == 200 and b"Move to the recycle bin" in confirm.content
    assert client.post(f"/media/{entry.pk}/delete/", {"next": url}).status_code == 400  # not confirmed
    name = entry.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/media/{entry.pk}/delete/", {"confirm": "yes", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert not MediaEntry.objects.filter(pk=entry.pk).exists() and default_storage.exists(name)
    assert MediaEntry.all_objects.get(pk=entry.pk).deleted_by == cast.users["moderator"]


@pytest.mark.django_db
def test_panel_posts_answer_with_the_fragment(client, cast) -> None:
    room = cast.room("single")
    client.force_login(cast.users["host"])
    response = client.post(f"/rooms/{room.pk}/media/?panel=1", {"action": "create_folder", "name": "Handouts"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="media-and-files"' in html and "Handouts" in html
    bad = client.post(f"/rooms/{room.pk}/media/?panel=1", {"action": "create_folder", "name": ""})
    assert bad.status_code == 400 and 'class="mf-error"' in bad.content.decode()
    panel = client.get(f"/rooms/{room.pk}/media/panel/")
    assert panel.status_code == 200 and "<html" not in panel.content.decode()


@pytest.mark.django_db
def test_garbage_gets_clear_4xx_never_500(client, cast, publish) -> None:
    entry = publish("single")
    room = cast.room("single")
    client.force_login(cast.users["host"])
    cases = [
        ("get", "/media/0/", {}, 404),
        ("get", "/media/99999999999999999999999/", {}, 404),  # longer than any id: no database error
        ("get", "/media/abc/", {}, 404),
        ("get", "/media/-1/stream/", {}, 404),
        ("get", "/rooms/99999999999999999999/media/", {}, 404),
        ("get", f"/rooms/{room.pk}/media/?folder=abc", {}, 404),
        ("get", f"/rooms/{room.pk}/media/?folder=123456789", {}, 404),
        ("get", f"/rooms/{room.pk}/media/panel/?folder=%00", {}, 404),
        ("get", "/s/%00%00/", {}, 404),
        ("get", "/s/" + "a" * 65 + "/", {}, 404),
        ("post", f"/media/{entry.pk}/", {"action": "explode"}, 400),
        ("post", f"/media/{entry.pk}/", {}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "rename", "title": ""}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "rename", "title": "x" * 300}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "nobody", "role": "co_viewer"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "outsider", "role": "king"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "host", "role": "co_viewer"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "remove_collaborator", "user_id": "x"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "remove_collaborator", "user_id": "424242"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "create_share", "expires_in_days": "3"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "create_share", "expires_in_days": "-1"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "revoke_share", "link_id": "99999"}, 400),
        ("post", f"/media/{entry.pk}/", {"action": "revoke_share"}, 400),
        ("post", f"/rooms/{room.pk}/media/", {"action": "launch"}, 400),
        ("post", f"/rooms/{room.pk}/media/", {}, 400),
        ("put", f"/media/{entry.pk}/", {}, 405),
        ("post", f"/media/{entry.pk}/stream/", {}, 405),
        ("delete", f"/media/{entry.pk}/delete/", {}, 405),
    ]
    for method, url, data, status in cases:
        response = getattr(client, method)(url, data)
        assert response.status_code == status, (method, url, data, response.status_code)
    assert client.get(f"/media/{entry.pk}/stream/", HTTP_RANGE="bytes=zzz").status_code == 416
    assert client.get(f"/media/{entry.pk}/").status_code == 200  # still fine after all that


@pytest.mark.django_db
def test_collaborators_and_share_links_on_the_entry_page(client, cast, publish) -> None:
    entry = publish("single")
    client.force_login(cast.users["host"])
    page = client.get(f"/media/{entry.pk}/").content.decode()
    assert "<video" in page and f'src="/media/{entry.pk}/stream/"' in page and "Collaborators" in page
    response = client.post(
        f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "Outsider", "role": "co_viewer"}
    )
    assert response.status_code == 302
    assert permissions.can(cast.users["outsider"], "stream", entry)
    client.post(f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "outsider", "role": "co_editor"})
    assert entry.collaborators.get(user=cast.users["outsider"]).role == "co_editor"
    client.post(f"/media/{entry.pk}/", {"action": "remove_collaborator", "user_id": cast.users["outsider"].pk})
    assert not permissions.can(cast.users["outsider"], "view", entry)
    client.post(f"/media/{entry.pk}/", {"action": "create_share", "expires_in_days": "7"})
    link = entry.share_links.get()
    assert link.expires_at is not None
    assert f"/s/{link.token}/" in client.get(f"/media/{entry.pk}/").content.decode()
    # A co-publisher may share but not manage collaborators: the page offers only what is allowed.
    client.force_login(cast.users["copublisher"])
    page = client.get(f"/media/{entry.pk}/").content.decode()
    assert "Create link" in page and "Add by username" not in page and ">Delete<" not in page


@pytest.mark.django_db
def test_nul_and_control_characters_are_cleaned_not_500(client, cast, publish) -> None:
    entry = publish("single")
    room = cast.room("single")
    client.force_login(cast.users["host"])
    assert client.get("/my-media/?q=a%00b").status_code == 200
    assert client.get(f"/channels/{cast.demo.channel.slug}/media/?q=%00").status_code == 200
    assert client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "Plan\x00ning\x07"}).status_code == 302
    entry.refresh_from_db()
    assert entry.title == "Planning"
    assert client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "\x00"}).status_code == 400
    assert (
        client.post(
            f"/media/{entry.pk}/", {"action": "add_collaborator", "username": "out\x00sider", "role": "co_viewer"}
        ).status_code
        == 302
    )
    assert client.post(f"/rooms/{room.pk}/media/", {"action": "create_folder", "name": "A\x00B"}).status_code == 302
    assert room.folders.filter(name="AB").exists()
