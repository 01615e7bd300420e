"""Recordings through the API: the room policy for each role, start and stop through the same
services as the room's buttons (so the room hears it), and one outcome for a double start."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core import events
from meetings.services import open_or_create_session
from recordings.models import Recording
from tests.api.conftest import assert_problem
from tests.library.conftest import make_recording

# Per room kind, each person's answer: Y may list, start and stop; 403 sees the room but may not;
# 404 may not even see the room (the same answer as a room that does not exist).
MATRIX = {
    "single": {"host": "Y", "moderator": "Y", "coeditor": "Y", "participant": "403", "outsider": "404"},
    "channel": {"host": "Y", "moderator": "Y", "coeditor": "403", "participant": "403", "outsider": "404"},
    "integration": {"host": "Y", "moderator": "Y", "coeditor": "Y", "participant": "403", "outsider": "404"},
}
CASES = [(kind, username) for kind, row in MATRIX.items() for username in row]


@pytest.mark.django_db
@pytest.mark.parametrize("kind,username", CASES)
def test_room_policy_for_each_role(cast, api_as, django_capture_on_commit_callbacks, kind: str, username: str) -> None:
    room = cast.room(kind)
    open_or_create_session(room=room)
    earlier = make_recording(room, cast.users["starter"], state=Recording.State.PROCESSING, progress=40)
    expected = MATRIX[kind][username]
    api = api_as(username)
    base = f"/api/v1/rooms/{room.pk}/"

    rooms = [r["id"] for r in api.get("/api/v1/rooms/").json()["results"]]
    assert (room.pk in rooms) == (expected != "404")
    with django_capture_on_commit_callbacks(execute=True):
        answers = {
            "room": api.get(base),
            "list": api.get(f"{base}recordings/"),
            "start": api.post(f"{base}recordings/start/"),
            "stop": api.post(f"{base}recordings/stop/"),
        }
    if expected == "Y":
        assert answers["room"].status_code == 200
        listed = answers["list"].json()["results"]
        assert listed[0]["uid"] == str(earlier.uid)
        assert listed[0]["state"] == "processing" and listed[0]["progress"] == 40
        assert answers["start"].status_code == 201 and answers["start"].json()["created"] is True
        assert answers["stop"].status_code == 200 and answers["stop"].json()["stopped"] is True
        assert Recording.objects.filter(room=room, state=Recording.State.STOPPING).count() == 1
        return
    status = int(expected)
    assert answers["room"].status_code == (200 if status == 403 else 404)
    for what in ("list", "start", "stop"):
        body = assert_problem(answers[what], status)
        if status == 403:
            assert body["detail"] == "Only hosts and moderators can do that."
    assert not Recording.objects.filter(room=room).exclude(pk=earlier.pk).exists()


@pytest.mark.django_db
def test_start_and_stop_tell_everyone_in_the_room(cast, api_as, django_capture_on_commit_callbacks) -> None:
    room = cast.room("single")
    open_or_create_session(room=room)
    layer = get_channel_layer()
    inbox = {}
    for group in (events.room_group(room.pk), events.leaders_group(room.pk), events.participants_group(room.pk)):
        inbox[group] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, inbox[group])

    def received(group: str) -> dict:
        return async_to_sync(layer.receive)(inbox[group])["payload"]

    api = api_as("moderator")
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/rooms/{room.pk}/recordings/start/").json()["recording"]
    notice, state = received(events.room_group(room.pk)), received(events.room_group(room.pk))
    assert notice["type"] == "notice" and notice["code"] == "recording_starting"
    assert state["type"] == "recording" and state["recording"]["uid"] == started["uid"]
    assert state["recording"]["state"] == "starting"

    with django_capture_on_commit_callbacks(execute=True):
        stopped = api.post(f"/api/v1/rooms/{room.pk}/recordings/stop/").json()
    assert stopped["stopped"] is True and stopped["recording"]["state"] == "stopping"
    state = received(events.room_group(room.pk))
    assert state["type"] == "recording" and state["recording"]["state"] == "stopping"
    assert received(events.leaders_group(room.pk))["code"] == "recording_ended"
    assert received(events.participants_group(room.pk))["code"] == "recording_completed"
    recording = Recording.objects.get(uid=started["uid"])
    assert recording.started_by == cast.users["moderator"] and recording.stopped_by == cast.users["moderator"]
    assert recording.stop_reason == Recording.StopReason.STOPPED_BY_HOST


@pytest.mark.django_db
def test_double_start_gives_one_recording(cast, api_as) -> None:
    room = cast.room("single")
    open_or_create_session(room=room)
    host, moderator = api_as("host"), api_as("moderator")
    first = host.post(f"/api/v1/rooms/{room.pk}/recordings/start/")
    second = moderator.post(f"/api/v1/rooms/{room.pk}/recordings/start/")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["recording"]["uid"] == first.json()["recording"]["uid"]
    assert Recording.objects.filter(room=room).count() == 1
    # A second stop changes nothing either.
    assert host.post(f"/api/v1/rooms/{room.pk}/recordings/stop/").json()["stopped"] is True
    assert moderator.post(f"/api/v1/rooms/{room.pk}/recordings/stop/").json() == {"stopped": False, "recording": None}


@pytest.mark.django_db
def test_start_without_a_live_session_is_a_conflict(cast, api_as) -> None:
    room = cast.room("single")
    body = assert_problem(api_as("host").post(f"/api/v1/rooms/{room.pk}/recordings/start/"), 409)
    assert body["detail"] == "There is no live session in this room."
    assert not Recording.objects.filter(room=room).exists()


@pytest.mark.django_db
def test_a_published_recording_names_its_entry_only_to_those_who_may_see_it(cast, publish, api_as) -> None:
    entry = publish("single")  # the room's owner ("host") owns it; its moderators lead the room, not the file
    room = cast.room("single")
    by_user = {}
    for username in ("host", "moderator", "starter"):
        listed = api_as(username).get(f"/api/v1/rooms/{room.pk}/recordings/").json()["results"]
        by_user[username] = listed[0]
    assert by_user["host"]["state"] == "available" and by_user["host"]["progress"] == 100
    assert by_user["host"]["entry_id"] == entry.pk and by_user["starter"]["entry_id"] == entry.pk
    assert by_user["moderator"]["state"] == "available" and by_user["moderator"]["entry_id"] is None
