"""An entry's breadcrumb follows where it was opened from (`from`), only among places the viewer may see;
a forged `from` falls back to where the entry lives. The Home page's channel cards link to the channel's Media tab."""

from __future__ import annotations

import re

import pytest

from media_library.models import MediaEntry


def crumbs(html: str) -> list[tuple[str, str]]:
    """The breadcrumb's links, as (href, text)."""
    nav = re.search(r'<nav class="crumbs" aria-label="Breadcrumb">(.*?)</nav>', html, re.S)
    assert nav, "no breadcrumb"
    return re.findall(r'<a href="([^"]*)">([^<]*)</a>', nav.group(1))


@pytest.fixture
def channel_entry(publish) -> MediaEntry:
    """A recording of the channel room: owned by the channel's owner (host), published to the channel."""
    return publish("channel")


@pytest.mark.django_db
def test_each_origin_shows_its_own_breadcrumb(client, cast, channel_entry: MediaEntry) -> None:
    slug, room = cast.demo.channel.slug, channel_entry.room
    assert room is not None and channel_entry.folder is not None
    client.force_login(cast.users["host"])  # owner: sees it in My Media, the channel tab and the room's files
    url = f"/media/{channel_entry.pk}/"
    channel_crumb = (f"/channels/{slug}/media/", f"{cast.demo.channel.name} · Media")
    assert crumbs(client.get(url + f"?from=channel:{slug}").content.decode()) == [channel_crumb]
    assert crumbs(client.get(url + "?from=my-media").content.decode()) == [("/my-media/", "My Media")]
    assert crumbs(client.get(url + f"?from=room:{room.pk}").content.decode()) == [
        (f"/rooms/{room.pk}/", room.title),
        (f"/rooms/{room.pk}/media/", "Media and Files"),
        (f"/rooms/{room.pk}/media/?folder={channel_entry.folder.pk}", "Recordings"),
    ]
    # Without `from`: where it lives for this person (their own recording: My Media).
    assert crumbs(client.get(url).content.decode()) == [("/my-media/", "My Media")]
    # The channel tab's own links say where they come from.
    tab = client.get(f"/channels/{slug}/media/").content.decode()
    assert f'href="/media/{channel_entry.pk}/?from=channel:{slug}"' in tab


@pytest.mark.django_db
def test_a_channel_member_defaults_to_the_channel(client, cast, channel_entry: MediaEntry) -> None:
    """A plain member has no My Media link to this entry and may not open the room's files."""
    client.force_login(cast.users["member"])
    url = f"/media/{channel_entry.pk}/"
    expected = [(f"/channels/{cast.demo.channel.slug}/media/", f"{cast.demo.channel.name} · Media")]
    for forged in ("", "?from=my-media", f"?from=room:{channel_entry.room_id}"):
        assert crumbs(client.get(url + forged).content.decode()) == expected, forged


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        "https://evil.example/",
        "//evil.example",
        "/my-media/",
        "channel:no-such-channel",
        "channel:",
        "room:999999",
        "room:-1",
        "room:1" + "0" * 40,
        "channel:" + "x" * 500,
        "my-media\x00",
        "javascript:alert(1)",
    ],
)
def test_a_forged_origin_falls_back_to_where_the_entry_lives(
    client, cast, channel_entry: MediaEntry, forged: str
) -> None:
    client.force_login(cast.users["host"])
    response = client.get(f"/media/{channel_entry.pk}/", {"from": forged})
    assert response.status_code == 200
    html = response.content.decode()
    assert crumbs(html) == [("/my-media/", "My Media")]
    links = re.findall(r'href="([^"]*)"', html)
    assert not [href for href in links if "evil.example" in href or href.startswith("javascript:al")]


@pytest.mark.django_db
def test_another_channels_origin_is_refused(client, cast, channel_entry: MediaEntry) -> None:
    """A channel the entry is not published to, even one the viewer is in, is not its origin."""
    from meetings.models import Channel

    Channel.objects.create(slug="other", name="Other team", owner=cast.users["host"])
    client.force_login(cast.users["host"])
    html = client.get(f"/media/{channel_entry.pk}/?from=channel:other").content.decode()
    assert crumbs(html) == [("/my-media/", "My Media")]


@pytest.mark.django_db
def test_the_origin_survives_a_change_and_a_deletion_goes_back_to_it(client, cast, channel_entry: MediaEntry) -> None:
    slug = cast.demo.channel.slug
    client.force_login(cast.users["host"])
    url = f"/media/{channel_entry.pk}/?from=channel:{slug}"
    renamed = client.post(url, {"action": "rename", "title": "Renamed"})
    assert renamed.status_code == 302 and renamed["Location"] == url
    page = client.get(url).content.decode()
    delete_href = f"/media/{channel_entry.pk}/delete/?from=channel:{slug}"
    assert f'href="{delete_href}"' in page
    confirm = client.get(delete_href).content.decode()
    assert f'href="{url}"' in confirm  # Cancel goes back to the entry, same origin
    done = client.post(delete_href, {"confirm": "yes", "next": f"/channels/{slug}/media/"})
    assert done.status_code == 302 and done["Location"] == f"/channels/{slug}/media/"
    assert not MediaEntry.objects.filter(pk=channel_entry.pk).exists()


@pytest.mark.django_db
def test_home_channel_card_links_to_the_channels_media_tab(client, cast) -> None:
    client.force_login(cast.users["member"])
    html = client.get("/").content.decode()
    channel = cast.demo.channel
    link = re.search(rf'<a class="channel-link" href="/channels/{channel.slug}/media/"[^>]*>', html)
    assert link, "the channel card is not a link to its Media tab"
    assert f'aria-label="{channel.name} media"' in link.group(0)
    assert client.get(f"/channels/{channel.slug}/media/").status_code == 200  # and a member may open it
