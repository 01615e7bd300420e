"""My Media (search, paging, progress, constant queries), the channel Media tab, next-page-load notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from media_library.models import ChannelPublication, EntryCollaborator, MediaEntry, RecordingNotice
from meetings.models import CollaboratorRole, User
from recordings.models import Recording
from tests.library.conftest import make_recording


def make_entries(owner: User, count: int, *, prefix: str = "Entry", **extra: object) -> list[MediaEntry]:
    now = timezone.now()
    entries = MediaEntry.objects.bulk_create(
        [
            MediaEntry(
                title=f"{prefix} {i:05d}",
                owner=owner,
                creator=owner,
                size=1000 + i,
                duration=60.0 + i,
                file=f"entries/x/{i}.mp4",
                content_type="video/mp4",
                **extra,
            )
            for i in range(count)
        ]
    )
    # Distinct, increasing creation times: entry i is the i-th newest from the end.
    for i, entry in enumerate(entries):
        MediaEntry.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=count - i))
    return entries


@pytest.mark.django_db
def test_my_media_lists_owned_created_and_collaborated_newest_first(client, cast, publish) -> None:
    host = cast.users["host"]
    single = publish("single")  # host owns it
    own = make_entries(host, 2, prefix="Own")
    someone = cast.users["outsider"]
    shared = make_entries(someone, 1, prefix="Shared")[0]
    EntryCollaborator.objects.create(entry=shared, user=host, role=CollaboratorRole.CO_VIEWER)
    hidden = make_entries(someone, 1, prefix="Hidden")[0]
    client.force_login(host)
    html = client.get("/my-media/").content.decode()
    for entry in (single, *own, shared):
        assert f'href="/media/{entry.pk}/"' in html
    assert f'href="/media/{hidden.pk}/' not in html
    positions = [html.index(f'href="/media/{e.pk}/"') for e in (single, own[1], own[0])]
    assert positions == sorted(positions)  # newest first
    assert "Co-viewer" in html and "Owner" in html


@pytest.mark.django_db
def test_my_media_search_and_paging(client, cast) -> None:
    host = cast.users["host"]
    make_entries(host, 30, prefix="Standup")
    make_entries(host, 3, prefix="Retro")
    client.force_login(host)
    first = client.get("/my-media/")
    assert first.context["page"].paginator.count == 33 and len(first.context["page"].object_list) == 24
    second = client.get("/my-media/?page=2")
    assert len(second.context["page"].object_list) == 9
    found = client.get("/my-media/?q=retro")
    assert [e.title for e in found.context["page"].object_list] == ["Retro 00002", "Retro 00001", "Retro 00000"]
    assert "3 results for “retro”" in found.content.decode()
    none = client.get("/my-media/?q=nothing-like-this")
    assert none.status_code == 200 and "Nothing matches" in none.content.decode()
    paged_search = client.get("/my-media/?q=standup&page=2")
    assert "q=standup" in paged_search.content.decode()  # paging links keep the search
    for garbage in ("?page=abc", "?page=-4", "?page=99999999999999999999", "?q=" + "x" * 5000, "?q=%00"):
        assert client.get("/my-media/" + garbage).status_code == 200, garbage


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_my_media_query_count_is_constant(client, cast) -> None:
    host = cast.users["host"]
    client.force_login(host)
    make_entries(host, 10)
    make_recording(cast.room("single"), cast.users["starter"], progress=40)
    small = count_queries(client, "/my-media/")
    others = make_entries(cast.users["outsider"], 30, prefix="Other")
    EntryCollaborator.objects.bulk_create(
        [EntryCollaborator(entry=e, user=host, role=CollaboratorRole.CO_EDITOR) for e in others]
    )
    make_recording(cast.room("channel"), cast.users["starter"], progress=10)
    big = count_queries(client, "/my-media/")
    assert small == big <= 10, (small, big)
    assert count_queries(client, "/my-media/?page=2&q=Other") <= 10


@pytest.mark.django_db
def test_processing_recordings_show_their_progress_to_people_with_access(client, cast) -> None:
    processing = make_recording(cast.room("single"), cast.users["starter"], progress=42)
    client.force_login(cast.users["host"])  # the room owner will own it
    html = client.get("/my-media/").content.decode()
    assert 'value="42"' in html and "42%" in html and "Weekly planning" in html
    client.force_login(cast.users["starter"])  # who started it
    assert 'value="42"' in client.get("/my-media/").content.decode()
    for outsider in ("moderator", "participant", "outsider"):
        client.force_login(cast.users[outsider])
        assert 'value="42"' not in client.get("/my-media/").content.decode(), outsider
    # Once published it is an entry, no longer a progress bar.
    Recording.objects.filter(pk=processing.pk).update(state=Recording.State.AVAILABLE)
    client.force_login(cast.users["host"])
    assert 'value="42"' not in client.get("/my-media/").content.decode()


@pytest.mark.django_db
def test_integration_room_progress_is_for_the_starter_not_the_room_owner(client, cast) -> None:
    make_recording(cast.room("integration"), cast.users["starter"], progress=77)
    client.force_login(cast.users["host"])
    assert 'value="77"' not in client.get("/my-media/").content.decode()
    client.force_login(cast.users["coeditor"])
    assert 'value="77"' in client.get("/my-media/").content.decode()


@pytest.mark.django_db
def test_channel_media_tab_for_members_only(client, cast, publish) -> None:
    entry = publish("channel")
    unpublished = make_entries(cast.users["host"], 1, prefix="Private")[0]
    slug = cast.demo.channel.slug
    for username in ("host", "member", "moderator", "admin"):
        client.force_login(cast.users[username])
        response = client.get(f"/channels/{slug}/media/")
        assert response.status_code == 200, username
        html = response.content.decode()
        assert f'href="/media/{entry.pk}/?from=channel:{slug}"' in html, username
        assert f'href="/media/{unpublished.pk}/' not in html
    for username in ("outsider", "participant", "coeditor"):
        client.force_login(cast.users[username])
        assert client.get(f"/channels/{slug}/media/").status_code == 404, username
    assert client.get("/channels/no-such-channel/media/").status_code == 404
    client.logout()
    assert client.get(f"/channels/{slug}/media/").status_code == 302


@pytest.mark.django_db
def test_channel_tab_search_paging_and_constant_queries(client, cast) -> None:
    channel = cast.demo.channel
    entries = make_entries(cast.users["host"], 30, prefix="Talk")
    ChannelPublication.objects.bulk_create([ChannelPublication(channel=channel, entry=e) for e in entries])
    client.force_login(cast.users["member"])
    first = client.get(f"/channels/{channel.slug}/media/")
    assert len(first.context["page"].object_list) == 24
    assert client.get(f"/channels/{channel.slug}/media/?q=Talk 00029").context["page"].paginator.count == 1
    assert count_queries(client, f"/channels/{channel.slug}/media/") <= 10


@pytest.mark.django_db
def test_notices_show_once_on_the_next_page_load(client, cast, publish) -> None:
    entry = publish("single")
    client.force_login(cast.users["host"])
    html = client.get("/").content.decode()
    assert "Your recording file is available" in html and f'href="/media/{entry.pk}/"' in html
    assert RecordingNotice.objects.get(user=cast.users["host"]).seen_at is not None
    assert "Your recording file is available" not in client.get("/").content.decode()

    client.force_login(cast.users["moderator"])
    html = client.get("/my-media/").content.decode()
    assert "The recording is available to its owner" in html
    assert f'href="/media/{entry.pk}/"' not in html  # no link for a moderator without access


@pytest.mark.django_db
def test_a_page_without_the_notice_area_does_not_swallow_notices(client, cast, publish) -> None:
    publish("single")
    client.force_login(cast.users["host"])
    room = cast.room("single")
    assert client.get(f"/rooms/{room.pk}/media/panel/").status_code == 200  # a fragment, no base.html
    assert RecordingNotice.objects.get(user=cast.users["host"]).seen_at is None


@pytest.mark.django_db
def test_notice_dismissed_by_post(client, cast, publish) -> None:
    publish("single")
    notice = RecordingNotice.objects.get(user=cast.users["starter"])
    client.force_login(cast.users["host"])
    assert client.post(f"/notices/{notice.pk}/seen/").status_code == 404  # not theirs
    client.force_login(cast.users["starter"])
    assert client.get(f"/notices/{notice.pk}/seen/").status_code == 405
    response = client.post(f"/notices/{notice.pk}/seen/", {"js": "1"})
    assert response.status_code == 204
    notice.refresh_from_db()
    assert notice.seen_at is not None
    assert client.post("/notices/99999999/seen/").status_code == 404
    redirect = client.post(f"/notices/{notice.pk}/seen/", {"next": "https://evil.example/"})
    assert redirect.status_code == 302 and redirect["Location"] == "/"
