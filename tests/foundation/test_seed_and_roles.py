"""seed_demo is idempotent; roles follow SPEC.md; the home page lists rooms with roles."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from media_library.models import Folder
from meetings import permissions, selectors
from meetings.models import Channel, ChannelMembership, Room, RoomCollaborator, SessionRole, User

EXPECTED_ROLES = {
    # (user, room key): role
    ("host", "single"): SessionRole.HOST,
    ("coeditor", "single"): SessionRole.HOST,
    ("moderator", "single"): SessionRole.MODERATOR,
    ("participant", "single"): SessionRole.PARTICIPANT,
    ("outsider", "single"): None,
    ("admin", "single"): None,
    ("host", "channel"): SessionRole.HOST,
    ("moderator", "channel"): SessionRole.MODERATOR,
    ("participant", "channel"): SessionRole.PARTICIPANT,
    ("coeditor", "channel"): None,
    ("outsider", "channel"): None,
    ("host", "integration"): SessionRole.HOST,
    ("participant", "integration"): SessionRole.PARTICIPANT,
    ("outsider", "integration"): None,
}


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (User, Room, Channel, ChannelMembership, RoomCollaborator, Folder)}


@pytest.mark.django_db
def test_seed_demo_twice_makes_no_duplicates(capsys) -> None:
    call_command("seed_demo")
    first = counts()
    out = capsys.readouterr().out
    call_command("seed_demo")
    assert counts() == first
    assert first["User"] == 6 and first["Room"] == 3 and first["Channel"] == 1
    assert first["Folder"] == 3  # every room's Media and Files has its Recordings folder
    assert set(Folder.objects.values_list("kind", "name")) == {("recordings", "Recordings")}
    for username in ("host", "moderator", "participant", "outsider", "admin"):
        assert username in out
    assert User.objects.get(username="admin").is_staff
    assert User.objects.get(username="host").check_password("demo1234")


@pytest.mark.django_db
@pytest.mark.parametrize("who,room_key", sorted(EXPECTED_ROLES))
def test_session_roles_follow_the_spec(demo, who: str, room_key: str) -> None:
    role = permissions.session_role(demo.users[who], demo.rooms[room_key])
    assert role == EXPECTED_ROLES[(who, room_key)]


@pytest.mark.django_db
def test_channel_manager_hosts_the_channel_room(demo) -> None:
    ChannelMembership.objects.filter(channel=demo.channel, user=demo.users["participant"]).update(role="manager")
    assert permissions.session_role(demo.users["participant"], demo.rooms["channel"]) == SessionRole.HOST


@pytest.mark.django_db
def test_bulk_room_listing_agrees_with_single_room_roles(demo) -> None:
    for user in demo.users.values():
        listed = {item.room.pk: item.role for item in selectors.rooms_for_user(user=user)}
        expected = {
            room.pk: role for room in Room.objects.all() if (role := permissions.session_role(user, room)) is not None
        }
        assert listed == expected, user.username


@pytest.mark.django_db
def test_home_lists_rooms_with_roles(client, demo) -> None:
    client.force_login(demo.users["moderator"])
    page = client.get("/").content.decode()
    assert "Weekly planning" in page and "Product team live" in page and "Moderator" in page
    client.force_login(demo.users["outsider"])
    page = client.get("/").content.decode()
    assert "Weekly planning" not in page and "You have no rooms yet" in page


@pytest.mark.django_db
def test_home_needs_sign_in(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_room_page_is_not_found_for_outsiders(client, demo) -> None:
    room = demo.rooms["single"]
    client.force_login(demo.users["outsider"])
    assert client.get(f"/rooms/{room.pk}/").status_code == 404
    assert client.get("/rooms/999999/").status_code == 404
    client.force_login(demo.users["participant"])
    assert client.get(f"/rooms/{room.pk}/").status_code == 200
