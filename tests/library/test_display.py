"""One rule for durations (whole seconds, truncated, as the player shows them) on every page and in the admin,
and readable sizes in the admin."""

from __future__ import annotations

import re

import pytest

from media_library.admin import MediaEntryAdmin
from media_library.models import MediaEntry, ShareLink
from media_library.templatetags.library import duration
from recordings.models import Recording

# A recording Chromium's player shows as 1:01 (it drops the fraction); rounding said 1:02.
PLAYER_SECONDS = 61.56666666666667
SIZE_BYTES = 3_355_443  # 3.2 MB


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (PLAYER_SECONDS, "1:01"),
        (59.999, "0:59"),
        (0.4, "0:00"),
        (3600.0, "1:00:00"),
        (3725.9, "1:02:05"),
        (36_000 + 59.99, "10:00:59"),
        (None, ""),
        (float("nan"), ""),
        (float("inf"), ""),
        (-3.0, "0:00"),
        ("garbage", ""),
    ],
)
def test_duration_is_truncated_to_whole_seconds_like_the_player(seconds: object, shown: str) -> None:
    assert duration(seconds) == shown  # type: ignore[arg-type]


@pytest.fixture
def long_entry(publish, cast) -> MediaEntry:
    """A channel recording, 61.57 s long and 3.2 MB, with a share link."""
    entry = publish("channel")
    MediaEntry.objects.filter(pk=entry.pk).update(duration=PLAYER_SECONDS, size=SIZE_BYTES)
    Recording.objects.filter(pk=entry.source_recording_id).update(duration=PLAYER_SECONDS)
    ShareLink.objects.create(entry=entry, token="display-token", created_by=cast.users["host"])
    entry.refresh_from_db()
    return entry


@pytest.mark.django_db
def test_every_page_prints_the_players_duration(client, cast, long_entry: MediaEntry) -> None:
    client.force_login(cast.users["host"])
    pages = {
        "My Media": "/my-media/",
        "channel tab": f"/channels/{cast.demo.channel.slug}/media/",
        "entry": f"/media/{long_entry.pk}/",
        "room's Media and Files": f"/rooms/{long_entry.room_id}/media/?folder={long_entry.folder_id}",
        "room panel": f"/rooms/{long_entry.room_id}/media/panel/?folder={long_entry.folder_id}",
        "share page": "/s/display-token/",
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert "1:01" in html, f"{name} does not show 1:01"
        assert "1:02" not in html, f"{name} rounds the duration up"
    entry_html = client.get(pages["entry"]).content.decode()
    assert re.search(r"<dt>Duration</dt><dd>1:01</dd>", entry_html)


@pytest.mark.django_db
def test_admin_shows_readable_durations_and_sizes(client, cast, long_entry: MediaEntry) -> None:
    client.force_login(cast.users["admin"])  # the demo's staff user
    raw = str(PLAYER_SECONDS)
    for url in (
        "/admin/media_library/mediaentry/",
        f"/admin/media_library/mediaentry/{long_entry.pk}/change/",
        "/admin/recordings/recording/",
        f"/admin/recordings/recording/{long_entry.source_recording_id}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert raw not in html and "61.57" not in html, f"{url} shows the raw float"
        assert re.search(r">\s*1:01\s*<", html), f"{url} does not show 1:01"
    for url in ("/admin/media_library/mediaentry/", f"/admin/media_library/mediaentry/{long_entry.pk}/change/"):
        html = client.get(url).content.decode()
        assert "3.2\xa0MB" in html and str(SIZE_BYTES) not in html, url
    # A share link's token (43 unbroken characters in real life) shows its start, the whole on hover.
    change = client.get(f"/admin/media_library/mediaentry/{long_entry.pk}/change/").content.decode()
    assert '<span title="display-token">display-to…</span>' in change


@pytest.mark.django_db
def test_admin_lists_still_sort_on_the_stored_numbers(client, cast, publish) -> None:
    short, long = publish("single"), publish("single")
    MediaEntry.objects.filter(pk=short.pk).update(duration=5.0, size=900_000)
    MediaEntry.objects.filter(pk=long.pk).update(duration=600.0, size=100)
    client.force_login(cast.users["admin"])
    columns = list(MediaEntryAdmin.list_display)
    for column, first, second in (("duration_display", short, long), ("size_display", long, short)):
        index = columns.index(column) + 1  # the admin numbers list_display from 1 (0 is the checkbox)
        html = client.get(f"/admin/media_library/mediaentry/?o={index}").content.decode()
        assert html.index(f"/{first.pk}/change/") < html.index(f"/{second.pk}/change/"), column
