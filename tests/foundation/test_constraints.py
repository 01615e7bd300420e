"""Every database constraint of the domain holds, including under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from media_library.models import ChannelPublication, EntryCollaborator, Folder, MediaEntry, RecordingNotice
from meetings.models import ChannelMembership, ChannelRole, LiveSession, Room, RoomCollaborator
from recordings.models import Fragment, Recording, Segment, Track


def make_session(room: Room) -> LiveSession:
    now = timezone.now()
    return LiveSession.objects.create(
        room=room, started_at=now, max_end_at=now + timedelta(hours=room.max_session_hours)
    )


def make_recording(session: LiveSession, **extra) -> Recording:
    now = timezone.now()
    return Recording.objects.create(
        room=session.room,
        session=session,
        started_by=session.room.owner,
        cap_deadline=now + timedelta(hours=24),
        first_media_deadline=now + timedelta(seconds=60),
        **extra,
    )


def assert_violates(name: str, fn) -> None:
    with pytest.raises(IntegrityError) as info:
        with transaction.atomic():
            fn()
    message = str(info.value)
    if connection.vendor == "postgresql":
        assert name in message, message
    else:  # SQLite names CHECK constraints, but only the columns of a UNIQUE one
        assert name in message or "UNIQUE constraint failed" in message, message


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_give_one_active_recording(demo) -> None:
    session = make_session(demo.rooms["single"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            make_recording(session)
            outcomes.append("created")
        except IntegrityError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    close_old_connections()
    assert sorted(outcomes) == ["created", "refused"]
    assert Recording.objects.filter(room=session.room, state__in=Recording.ACTIVE_STATES).count() == 1


@pytest.mark.django_db
def test_one_active_recording_per_room_but_processing_does_not_block(demo) -> None:
    session = make_session(demo.rooms["single"])
    first = make_recording(session)
    assert_violates("recording_one_active_per_room", lambda: make_recording(session))
    first.state = Recording.State.PROCESSING
    first.save()
    second = make_recording(session)  # a new recording may start while the last one is processed
    assert second.pk != first.pk
    # Another room is independent.
    make_recording(make_session(demo.rooms["integration"]))


@pytest.mark.django_db
def test_recording_state_and_progress_checks(demo) -> None:
    session = make_session(demo.rooms["single"])
    assert_violates("recording_state_valid", lambda: make_recording(session, state="bogus"))
    assert_violates("recording_progress_percent", lambda: make_recording(session, progress=101))


@pytest.mark.django_db
def test_one_open_live_session_per_room(demo) -> None:
    room = demo.rooms["single"]
    first = make_session(room)
    assert_violates("live_session_one_open_per_room", lambda: make_session(room))
    first.state = LiveSession.State.ENDED
    first.ended_at = timezone.now()
    first.save()
    make_session(room)


@pytest.mark.django_db
def test_live_session_ended_at_iff_ended(demo) -> None:
    room = demo.rooms["single"]
    now = timezone.now()
    assert_violates(
        "live_session_ended_at_iff_ended",
        lambda: LiveSession.objects.create(room=room, state=LiveSession.State.ENDED, started_at=now, max_end_at=now),
    )
    assert_violates(
        "live_session_ended_at_iff_ended",
        lambda: LiveSession.objects.create(
            room=room, state=LiveSession.State.LIVE, started_at=now, ended_at=now, max_end_at=now
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("hours,ok", [(0, False), (1, True), (72, True), (73, False)])
def test_room_session_length_is_1_to_72_hours(demo, hours: int, ok: bool) -> None:
    host = demo.users["host"]

    def create() -> Room:
        return Room.objects.create(title="x", owner=host, creator=host, max_session_hours=hours)

    if ok:
        assert create().max_session_hours == hours
    else:
        assert_violates("room_max_session_hours_1_72", create)


@pytest.mark.django_db
def test_room_channel_matches_kind(demo) -> None:
    host = demo.users["host"]
    assert_violates(
        "room_channel_iff_channel_kind",
        lambda: Room.objects.create(title="x", kind=Room.Kind.CHANNEL, owner=host, creator=host),
    )
    assert_violates(
        "room_channel_iff_channel_kind",
        lambda: Room.objects.create(title="x", kind=Room.Kind.SINGLE, channel=demo.channel, owner=host, creator=host),
    )
    assert_violates("room_origin_valid", lambda: Room.objects.create(title="x", origin="lms", owner=host, creator=host))
    assert_violates("room_mode_valid", lambda: Room.objects.create(title="x", mode="radio", owner=host, creator=host))


@pytest.mark.django_db
def test_memberships_and_collaborators_are_unique_and_valid(demo) -> None:
    u = demo.users
    assert_violates(
        "channel_membership_unique",
        lambda: ChannelMembership.objects.create(channel=demo.channel, user=u["participant"], role=ChannelRole.MANAGER),
    )
    assert_violates(
        "channel_membership_role_valid",
        lambda: ChannelMembership.objects.create(channel=demo.channel, user=u["outsider"], role="boss"),
    )
    assert_violates(
        "room_collaborator_unique",
        lambda: RoomCollaborator.objects.create(room=demo.rooms["single"], user=u["coeditor"], role="co_viewer"),
    )
    assert_violates(
        "room_collaborator_role_valid",
        lambda: RoomCollaborator.objects.create(room=demo.rooms["single"], user=u["outsider"], role="owner"),
    )


@pytest.mark.django_db
def test_tracks_segments_and_fragments(demo) -> None:
    rec = make_recording(make_session(demo.rooms["single"]))
    track = Track.objects.create(recording=rec, user=demo.users["host"], client_id="cam-1", kind="camera")
    assert_violates(
        "track_client_id_unique",
        lambda: Track.objects.create(recording=rec, user=demo.users["host"], client_id="cam-1", kind="camera"),
    )
    assert_violates(
        "track_kind_valid",
        lambda: Track.objects.create(recording=rec, user=demo.users["host"], client_id="x", kind="desktop"),
    )
    Segment.objects.create(track=track, seq=0, path="a", size=1, start=0, sha256="0" * 64)
    assert_violates(
        "segment_track_seq_unique",
        lambda: Segment.objects.create(track=track, seq=0, path="b", size=1, start=0, sha256="0" * 64),
    )
    Fragment.objects.create(recording=rec, index=0, start=0, end=10)
    assert_violates(
        "fragment_recording_index_unique", lambda: Fragment.objects.create(recording=rec, index=0, start=0, end=10)
    )
    assert_violates(
        "fragment_end_after_start", lambda: Fragment.objects.create(recording=rec, index=1, start=10, end=10)
    )


@pytest.mark.django_db
def test_media_library_constraints(demo) -> None:
    u = demo.users
    room = demo.rooms["single"]
    assert Folder.objects.filter(
        room=room, name="Recordings", kind=Folder.Kind.RECORDINGS
    ).exists()  # made with the room
    assert_violates(
        "folder_one_recordings_per_room",
        lambda: Folder.objects.create(room=room, name="More recordings", kind=Folder.Kind.RECORDINGS),
    )
    assert_violates("folder_top_name_unique", lambda: Folder.objects.create(room=room, name="Recordings"))
    entry = MediaEntry.objects.create(title="t", owner=u["host"], creator=u["host"])
    assert_violates(
        "entry_kind_valid",
        lambda: MediaEntry.objects.create(title="t", owner=u["host"], creator=u["host"], kind="hologram"),
    )
    assert_violates(
        "entry_status_valid",
        lambda: MediaEntry.objects.create(title="t", owner=u["host"], creator=u["host"], status="lost"),
    )
    EntryCollaborator.objects.create(entry=entry, user=u["participant"], role="co_viewer")
    assert_violates(
        "entry_collaborator_unique",
        lambda: EntryCollaborator.objects.create(entry=entry, user=u["participant"], role="co_editor"),
    )
    ChannelPublication.objects.create(channel=demo.channel, entry=entry)
    assert_violates("publication_unique", lambda: ChannelPublication.objects.create(channel=demo.channel, entry=entry))
    rec = make_recording(make_session(room))
    RecordingNotice.objects.create(user=u["host"], recording=rec, entry=entry)
    assert_violates(
        "notice_one_per_user_recording", lambda: RecordingNotice.objects.create(user=u["host"], recording=rec)
    )
