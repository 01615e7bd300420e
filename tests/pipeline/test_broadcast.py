"""Live broadcast rooms: the recording appears only when the host closes the room completely.

SPEC "Live broadcast rooms". Through the real pipeline (tasks run eagerly): a broadcast's
recording is processed to a verified MP4 and then held; closing the room publishes it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from media_library.models import MediaEntry
from meetings import services as meeting_services
from meetings.models import LiveSession, Room
from recordings import services
from recordings.models import Recording

from .conftest import Part, build_recording

pytestmark = pytest.mark.django_db(transaction=True)
PARTS = [Part("host", "red", start=1.0, count=1, tone_hz=440.0)]


@pytest.fixture
def broadcast(demo) -> Room:
    room = demo.rooms["single"]
    Room.objects.filter(pk=room.pk).update(mode=Room.Mode.BROADCAST)
    room.refresh_from_db()
    return room


def session_of(recording: Recording) -> LiveSession:
    return LiveSession.objects.get(pk=recording.session_id)


def test_a_broadcast_ended_without_closing_holds_its_recording(demo, broadcast, short_windows) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    assert session_of(recording).state == LiveSession.State.PREVIEW  # a broadcast starts in preview
    meeting_services.end_session(session=session_of(recording), reason=LiveSession.EndReason.ENDED_BY_HOST)
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.state == Recording.State.HELD, recording.error
    assert recording.output_path  # processed and verified: only publishing waits
    assert not MediaEntry.objects.filter(source_recording=recording).exists()
    assert recording.transitions.filter(to_state="held", note__contains="not been closed").exists()

    # Shown to the room's hosts, not to participants.
    host, participant = Client(), Client()
    host.force_login(demo.users["host"])
    participant.force_login(demo.users["participant"])
    page = host.get(f"/rooms/{broadcast.pk}/").content.decode()
    assert "1 broadcast recording held" in page and "Close the room and publish" in page
    assert "broadcast recording held" not in participant.get(f"/rooms/{broadcast.pk}/").content.decode()
    assert "1 held recording" in host.get("/").content.decode()  # on their room list too
    assert "Open the room to close it and publish" in host.get("/my-media/").content.decode()  # and My Media
    assert "held recording" not in participant.get("/").content.decode()

    # A participant cannot close the room; a host can, and the recording is published.
    assert participant.post(f"/rooms/{broadcast.pk}/close/").status_code == 404
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.HELD
    response = host.post(f"/rooms/{broadcast.pk}/close/", follow=True)
    assert "1 held recording(s) are being published" in response.content.decode()
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE
    assert session_of(recording).room_closed
    assert MediaEntry.objects.filter(source_recording=recording).exists()
    assert "held recording" not in host.get("/").content.decode()


def test_closing_the_room_at_the_end_publishes_the_recording(demo, broadcast, short_windows) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    meeting_services.end_session(
        session=session_of(recording),
        reason=LiveSession.EndReason.ENDED_BY_HOST,
        by=demo.users["host"],
        close_room=True,
    )
    session = session_of(recording)
    assert session.room_closed and session.end_reason == LiveSession.EndReason.ROOM_CLOSED
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE, recording.error
    assert not recording.transitions.filter(to_state="held").exists()


def test_a_recording_stopped_while_the_broadcast_runs_waits_for_the_end(demo, broadcast, short_windows) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    services.begin_processing(recording_id=recording.pk)  # the session is still open
    recording.refresh_from_db()
    assert recording.state == Recording.State.HELD
    meeting_services.end_session(
        session=session_of(recording), reason=LiveSession.EndReason.ENDED_BY_HOST, close_room=True
    )
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE


def test_interactive_rooms_are_never_held_and_cannot_be_closed(demo, short_windows) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    meeting_services.end_session(
        session=session_of(recording), reason=LiveSession.EndReason.ENDED_BY_HOST, close_room=True
    )  # ignored outside broadcast rooms
    assert not session_of(recording).room_closed
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE
    host = Client()
    host.force_login(demo.users["host"])
    response = host.post(f"/rooms/{recording.room_id}/close/", follow=True)
    assert "Only a broadcast room is closed this way." in response.content.decode()


def test_closing_the_room_from_the_page_during_a_broadcast_publishes_what_it_held(
    demo, broadcast, short_windows
) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    services.begin_processing(recording_id=recording.pk)  # stopped while the broadcast goes on: held
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.HELD
    host = Client()
    host.force_login(demo.users["host"])
    response = host.post(f"/rooms/{broadcast.pk}/close/", follow=True)
    assert "1 held recording(s) are being published" in response.content.decode()
    session = session_of(recording)
    assert session.state == LiveSession.State.ENDED and session.room_closed
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.AVAILABLE


def test_an_admin_can_publish_a_held_recording(demo, broadcast, short_windows) -> None:
    recording = build_recording(demo, PARTS, stop_at=7.0)
    meeting_services.end_session(session=session_of(recording), reason=LiveSession.EndReason.ENDED_BY_HOST)
    services.begin_processing(recording_id=recording.pk)
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.HELD
    admin = Client()
    admin.force_login(demo.users["admin"])
    listing = admin.get("/admin/recordings/recording/?state__exact=held").content.decode()
    assert f"/admin/recordings/recording/{recording.pk}/change/" in listing
    # From the list filtered to held recordings, as an admin would (the filter must not skew the counts).
    response = admin.post(
        "/admin/recordings/recording/?state__exact=held",
        {"action": "publish_held", "_selected_action": [recording.pk]},
        follow=True,
    )
    assert "Publishing 1 held recording(s)." in response.content.decode()
    assert "skipped" not in response.content.decode()
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.AVAILABLE
    assert session_of(recording).room_closed
