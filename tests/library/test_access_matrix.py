"""Who may do what to a published recording, per SPEC.md "Access to recordings" and
docs/decisions/0005-media-access.md, checked through the policy AND through the real views.

Every role of every room kind against every action. A cell is Y (allowed) or . (refused).
Through HTTP, allowed means the view's success answer; refused means
  - anonymous: a redirect to sign in (every URL, so nothing is learned);
  - cannot even view the entry: 404, exactly as for an entry that does not exist;
  - can view it but not do this: 403 with a message.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from media_library import permissions
from media_library.models import MediaEntry, RecordingNotice, ShareLink
from meetings.models import User
from tests.library.conftest import add_coviewer

ACTIONS = ["list", "view", "stream", "download", "rename", "share", "delete"]

# Each room's recording is started by "starter", a room moderator. The channel belongs to
# "chanowner" (not the channel room's `owner` field, which SPEC gives no role).
MATRIX = {
    "single": """
        role            list view stream download rename share delete
        creator          Y    Y    Y      Y        Y      Y     .
        room_owner       Y    Y    Y      Y        Y      Y     Y
        channel_owner    .    .    .      .        .      .     .
        co_editor        Y    Y    Y      Y        Y      Y     .
        co_publisher     Y    Y    Y      Y        .      Y     .
        co_viewer        Y    Y    Y      Y        .      .     .
        moderator        .    .    .      .        .      .     .
        channel_member   .    .    .      .        .      .     .
        participant      .    .    .      .        .      .     .
        outsider         .    .    .      .        .      .     .
        anonymous        .    .    .      .        .      .     .
        share_link       .    Y    Y      .        .      .     .
        staff            Y    Y    Y      Y        Y      Y     Y
    """,
    "channel": """
        role            list view stream download rename share delete
        creator          Y    Y    Y      Y        Y      Y     .
        room_owner       .    .    .      .        .      .     .
        channel_owner    Y    Y    Y      Y        Y      Y     Y
        co_editor        Y    Y    Y      Y        Y      Y     .
        co_publisher     Y    Y    Y      Y        .      Y     .
        co_viewer        Y    Y    Y      Y        .      .     .
        moderator        Y    Y    Y      .        .      .     .
        channel_member   Y    Y    Y      .        .      .     .
        participant      .    .    .      .        .      .     .
        outsider         .    .    .      .        .      .     .
        anonymous        .    .    .      .        .      .     .
        share_link       .    Y    Y      .        .      .     .
        staff            Y    Y    Y      Y        Y      Y     Y
    """,
    "integration": """
        role            list view stream download rename share delete
        creator          Y    Y    Y      Y        Y      Y     Y
        room_owner       .    .    .      .        .      .     .
        channel_owner    .    .    .      .        .      .     .
        co_editor        Y    Y    Y      Y        Y      Y     .
        co_publisher     Y    Y    Y      Y        .      Y     .
        co_viewer        Y    Y    Y      Y        .      .     .
        moderator        .    .    .      .        .      .     .
        channel_member   .    .    .      .        .      .     .
        participant      .    .    .      .        .      .     .
        outsider         .    .    .      .        .      .     .
        anonymous        .    .    .      .        .      .     .
        share_link       .    Y    Y      .        .      .     .
        staff            Y    Y    Y      Y        Y      Y     Y
    """,
}

# Role -> demo/cast username (None: not signed in).
ROLE_USERS = {
    "creator": "starter",
    "room_owner": "host",
    "channel_owner": "chanowner",
    "co_editor": "coeditor",
    "co_publisher": "copublisher",
    "co_viewer": "coviewer",
    "moderator": "moderator",
    "channel_member": "member",
    "participant": "participant",
    "outsider": "outsider",
    "anonymous": None,
    "share_link": "linkholder",
    "staff": "staffer",
}


def parse(table: str) -> dict[str, dict[str, bool]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header = lines[0][1:]
    assert header == ACTIONS
    return {row[0]: {action: cell == "Y" for action, cell in zip(header, row[1:], strict=True)} for row in lines[1:]}


EXPECTED = {kind: parse(table) for kind, table in MATRIX.items()}
CASES = [(kind, role) for kind in EXPECTED for role in EXPECTED[kind]]


def test_every_role_of_every_room_is_in_the_matrix() -> None:
    for kind, rows in EXPECTED.items():
        assert set(rows) == set(ROLE_USERS), kind


@pytest.fixture
def world(cast, publish):
    chanowner, _ = User.objects.get_or_create(username="chanowner", defaults={"display_name": "Chan Owner"})
    cast.users["chanowner"] = chanowner
    cast.demo.channel.owner = chanowner
    cast.demo.channel.save()
    staffer = cast.users["staffer"]
    staffer.is_superuser = True  # staff with admin rights, so the admin changelist is theirs to list
    staffer.save()

    def make(kind: str) -> tuple[MediaEntry, str]:
        entry = publish(kind)
        add_coviewer(entry, cast.users["coviewer"])
        link = ShareLink.objects.create(entry=entry, created_by=entry.owner)
        # Notices name the entry; mark them seen so listings are judged on listings alone.
        RecordingNotice.objects.update(seen_at=timezone.now())
        return entry, link.token

    return make


def listed_somewhere(client, entry: MediaEntry, user: User | None) -> bool:
    """Does the entry appear in a listing this person can open (My Media, channel tab, admin)?"""
    # A list's link says where it was opened from (`from`); a notice's link does not.
    markers = (f'href="/media/{entry.pk}/"', f'href="/media/{entry.pk}/?from=')
    pages = ["/my-media/"]
    if entry.room and entry.room.channel_id:
        pages.append(f"/channels/{entry.room.channel.slug}/media/")
    if user is not None and user.is_staff:
        pages.append("/admin/media_library/mediaentry/")
        marker_admin = f"/admin/media_library/mediaentry/{entry.pk}/change/"
    else:
        marker_admin = None
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        html = response.content.decode()
        if any(marker in html for marker in markers) or (marker_admin and marker_admin in html):
            return True
    return False


def attempt(client, action: str, entry: MediaEntry, token: str, via_link: bool) -> int:
    """One real request per action; returns the HTTP status."""
    if action == "view":
        return client.get(f"/s/{token}/" if via_link else f"/media/{entry.pk}/").status_code
    if action == "stream":
        url = f"/s/{token}/stream/" if via_link else f"/media/{entry.pk}/stream/"
        return client.get(url, HTTP_RANGE="bytes=0-9").status_code
    if action == "download":
        return client.get(f"/media/{entry.pk}/download/").status_code
    if action == "rename":
        return client.post(f"/media/{entry.pk}/", {"action": "rename", "title": "Renamed by test"}).status_code
    if action == "share":
        return client.post(f"/media/{entry.pk}/", {"action": "create_share", "expires_in_days": "7"}).status_code
    if action == "delete":
        return client.post(f"/media/{entry.pk}/delete/", {"confirm": "yes"}).status_code
    raise AssertionError(action)


SUCCESS = {"view": 200, "stream": 206, "download": 200, "rename": 302, "share": 302, "delete": 302}


@pytest.mark.django_db
@pytest.mark.parametrize("kind,role", CASES)
def test_access_matrix(client, cast, world, kind: str, role: str) -> None:
    entry, token = world(kind)
    username = ROLE_USERS[role]
    user = cast.users[username] if username else None
    via_link = role == "share_link"
    expected = EXPECTED[kind][role]

    # 1. The policy.
    policy = {
        action: permissions.can(user, action, entry, share_token=token if via_link else None) for action in ACTIONS
    }
    assert policy == expected, f"{kind}/{role}: policy {policy}"
    listed = user is not None and permissions.visible_entries(user).filter(pk=entry.pk).exists()
    assert listed == expected["list"], f"{kind}/{role}: visible_entries"

    # 2. The views.
    if user is not None:
        client.force_login(user)
    can_view = permissions.can(user, "view", entry)  # without the link: what the entry URLs see
    if user is None:
        assert client.get("/my-media/").status_code == 302
    else:
        assert listed_somewhere(client, entry, user) == expected["list"], f"{kind}/{role}: list"
    for action in ["view", "stream", "download", "rename", "share", "delete"]:  # delete last: it is final
        status = attempt(client, action, entry, token, via_link and action in ("view", "stream"))
        if expected[action]:
            wanted = SUCCESS[action]
        elif user is None:
            wanted = 302  # sign in first
        elif can_view or (via_link and action in ("view", "stream")):
            wanted = 403
        else:
            wanted = 404
        assert status == wanted, f"{kind}/{role}/{action}: HTTP {status}, expected {wanted}"
    assert MediaEntry.objects.filter(pk=entry.pk).exists() != expected["delete"]


@pytest.mark.django_db
def test_anonymous_link_holder_watches_but_nothing_more(client, cast, world) -> None:
    entry, token = world("single")
    assert client.get(f"/s/{token}/").status_code == 200
    assert client.get(f"/s/{token}/stream/", HTTP_RANGE="bytes=0-9").status_code == 206
    assert client.get(f"/media/{entry.pk}/download/").status_code == 302  # to sign in


@pytest.mark.django_db
def test_revoked_or_expired_links_stop_working(client, cast, world) -> None:
    entry, token = world("single")
    link = ShareLink.objects.get(token=token)
    link.expires_at = timezone.now() - timezone.timedelta(seconds=1)
    link.save()
    assert client.get(f"/s/{token}/").status_code == 404
    assert client.get(f"/s/{token}/stream/").status_code == 404
    link.expires_at = None
    link.save()
    assert client.get(f"/s/{token}/").status_code == 200
    client.force_login(cast.users["host"])
    response = client.post(f"/media/{entry.pk}/", {"action": "revoke_share", "link_id": link.pk})
    assert response.status_code == 302
    client.logout()
    assert client.get(f"/s/{token}/").status_code == 404
    assert client.get(f"/s/{token}/stream/").status_code == 404
    assert client.get("/s/not-a-real-token/").status_code == 404
    # A link of another entry does not open this one through the policy.
    other, other_token = world("integration")
    assert not permissions.can(None, "view", entry, share_token=other_token)


@pytest.mark.django_db
def test_list_querysets_agree_with_can_for_everyone(cast, world) -> None:
    entries = [world(kind)[0] for kind in ("single", "channel", "integration")]
    for user in User.objects.all():
        visible = set(permissions.visible_entries(user).values_list("pk", flat=True))
        for entry in entries:
            assert (entry.pk in visible) == permissions.can(user, "list", entry), (user.username, entry.pk)
        mine = set(permissions.personal_entries(user).values_list("pk", flat=True))
        assert mine <= visible


@pytest.mark.django_db
def test_unknown_actions_are_refused_by_the_policy(cast, world) -> None:
    entry, _ = world("single")
    assert not permissions.can(cast.users["host"], "launch_missiles", entry)
    assert not permissions.can(None, "view", entry, share_token="x" * 500)


@pytest.mark.django_db
def test_inactive_users_have_no_access(client, cast, world) -> None:
    entry, _ = world("single")
    host = cast.users["host"]
    host.is_active = False
    host.save()
    assert not permissions.can(host, "view", entry)
    assert not permissions.visible_entries(host).exists()
