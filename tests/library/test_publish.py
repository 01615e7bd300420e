"""publish_recording: storage, naming, folder, access, channel publication, notices, events, idempotency."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.storage import default_storage

from core import events
from media_library import services, storage
from media_library.models import ChannelPublication, EntryCollaborator, Folder, MediaEntry, RecordingNotice
from meetings.models import Room
from recordings import services as recording_services
from recordings.models import Recording, RecordingTransition
from tests.library.conftest import UTC, make_recording


def stored_files(media_root: Path) -> list[str]:
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


@pytest.mark.django_db
def test_publish_creates_a_ready_entry_with_file_poster_and_facts(cast, publish, library_settings) -> None:
    entry = publish("single")
    recording = entry.source_recording
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE and recording.progress == 100 and recording.available_at
    assert (
        RecordingTransition.objects.filter(recording=recording, from_state="processing", to_state="available").count()
        == 1
    )
    assert entry.status == MediaEntry.Status.READY and entry.kind == MediaEntry.Kind.VIDEO
    assert entry.content_type == "video/mp4"
    assert entry.file.name == f"recordings/{recording.uid}/recording.mp4"
    assert entry.size == default_storage.size(entry.file.name) > 0
    assert entry.duration == pytest.approx(1.0, abs=0.2)
    poster = default_storage.open(entry.poster.name).read()
    assert poster[:3] == b"\xff\xd8\xff"  # a JPEG, encoded by PyAV's mjpeg encoder
    assert stored_files(library_settings) == sorted([entry.file.name, entry.poster.name])


def library_footprint(media: Path) -> tuple[object, ...]:
    """Everything a publish makes: rows of each kind and the stored files."""
    return (
        MediaEntry.objects.count(),
        EntryCollaborator.objects.count(),
        ChannelPublication.objects.count(),
        RecordingNotice.objects.count(),
        Folder.objects.count(),
        stored_files(media),
    )


@pytest.mark.django_db
def test_publish_twice_gives_one_entry_one_file_one_set_of_notices(
    cast, publish, mp4_file, library_settings, django_capture_on_commit_callbacks
) -> None:
    entry = publish("channel")
    recording = entry.source_recording
    before = library_footprint(library_settings)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert again.pk == entry.pk
    after = library_footprint(library_settings)
    assert after == before
    assert callbacks == []  # nobody is told twice
    assert RecordingTransition.objects.filter(recording=recording, to_state="available").count() == 1


@pytest.mark.django_db
def test_retry_after_a_crash_between_upload_and_database_finishes_the_job(
    cast, mp4_file, monkeypatch, library_settings
) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"])
    path = str(mp4_file())

    def crash(**kwargs: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(recording_services, "mark_available", crash)
    with pytest.raises(RuntimeError):
        services.publish_recording(recording=recording, mp4_path=path)
    assert not MediaEntry.objects.exists()  # the database part rolled back as a whole
    uploaded = stored_files(library_settings)
    assert len(uploaded) == 2  # but the file and poster are stored
    monkeypatch.undo()
    calls: list[str] = []
    real_put = storage.put_file
    monkeypatch.setattr(storage, "put_file", lambda **kw: calls.append(kw["name"]) or real_put(**kw))
    entry = services.publish_recording(recording=recording, mp4_path=path)
    assert calls == []  # the complete object was found and reused, not uploaded again
    assert stored_files(library_settings) == uploaded
    assert MediaEntry.objects.get().pk == entry.pk


@pytest.mark.django_db
def test_storage_errors_are_retried_with_backoff_then_reported(cast, mp4_file, monkeypatch, settings) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"])
    real = storage._put_once
    failures = {"left": 2}

    def flaky(**kwargs: object) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("connection reset")
        real(**kwargs)

    monkeypatch.setattr(storage, "_put_once", flaky)
    entry = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert failures["left"] == 0 and entry.size == default_storage.size(entry.file.name)

    other = make_recording(cast.room("integration"), cast.users["starter"])
    settings.MEDIA_PUBLISH_ATTEMPTS = 3
    monkeypatch.setattr(storage, "_put_once", lambda **kw: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(services.PublishError, match="after 3 attempts"):
        services.publish_recording(recording=other, mp4_path=str(mp4_file()))
    other.refresh_from_db()
    assert other.state == Recording.State.PROCESSING  # never available without a verified file
    assert not MediaEntry.objects.filter(source_recording=other).exists()


@pytest.mark.django_db
def test_a_short_stored_object_is_not_accepted(cast, mp4_file, monkeypatch, settings) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"])
    settings.MEDIA_PUBLISH_ATTEMPTS = 2
    monkeypatch.setattr(storage, "stored_size", lambda backend, name: 7)
    with pytest.raises(services.PublishError, match="stored 7 bytes"):
        services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    recording.refresh_from_db()
    assert recording.state == Recording.State.PROCESSING


def test_backoff_grows_and_is_capped(settings) -> None:
    settings.MEDIA_PUBLISH_BACKOFF_SECONDS = 1
    settings.MEDIA_PUBLISH_BACKOFF_MAX_SECONDS = 5
    delays = [storage.backoff_delay(n) for n in range(1, 7)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and all(d <= 5 for d in delays)


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["starting", "recording", "stopping", "held"])
def test_only_processed_recordings_are_published(cast, mp4_file, state: str) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"], state=state)
    with pytest.raises(services.PublishError):
        services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert not MediaEntry.objects.exists()


@pytest.mark.django_db
def test_a_missing_mp4_is_a_publish_error(cast, tmp_path) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"])
    with pytest.raises(services.PublishError, match="no MP4"):
        services.publish_recording(recording=recording, mp4_path=str(tmp_path / "nothing.mp4"))


@pytest.mark.django_db
def test_a_failed_recording_can_be_published_by_an_admin_retry(cast, mp4_file) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"], state=Recording.State.FAILED)
    Recording.objects.filter(pk=recording.pk).update(error="upload timed out", output_path=str(mp4_file()))
    with pytest.raises(services.PublishError):  # a failed recording is not published as it is
        services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert recording_services.retry_publishing(recording_id=recording.pk) is not None  # the admin retry
    services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE and recording.error == ""


@pytest.mark.django_db
def test_mark_available_is_a_conditional_update(cast) -> None:
    recording = make_recording(cast.room("single"), cast.users["starter"])
    assert recording_services.mark_available(recording_id=recording.pk) is True
    assert recording_services.mark_available(recording_id=recording.pk) is False
    assert RecordingTransition.objects.filter(recording=recording).count() == 1
    active = make_recording(cast.room("integration"), cast.users["starter"], state=Recording.State.RECORDING)
    with pytest.raises(recording_services.RecordingError):
        recording_services.mark_available(recording_id=active.pk)
    active.refresh_from_db()
    assert active.state == Recording.State.RECORDING


@pytest.mark.django_db
def test_name_uses_the_rooms_time_zone(cast, publish) -> None:
    room = cast.room("single")
    room.time_zone = "America/New_York"
    room.save()
    entry = publish("single", started_at=datetime(2026, 11, 26, 19, 5, 9, tzinfo=UTC))
    assert entry.title == "Rec - 2026-11-26 14:05:09 - Weekly planning"


@pytest.mark.django_db
def test_name_falls_back_to_created_at_and_utc(cast, mp4_file) -> None:
    room = cast.room("single")
    room.time_zone = "Not/AZone"
    room.save()
    recording = make_recording(room, cast.users["starter"])
    Recording.objects.filter(pk=recording.pk).update(
        started_at=None, created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    entry = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert entry.title == "Rec - 2026-01-02 03:04:05 - Weekly planning"


@pytest.mark.django_db
def test_entry_lands_in_the_rooms_recordings_folder(cast, publish) -> None:
    first = publish("single")
    folder = first.folder
    assert folder.kind == Folder.Kind.RECORDINGS and folder.name == "Recordings" and folder.room == cast.room("single")
    assert first.room == cast.room("single")
    second = publish("single", starter="host")
    assert second.folder_id == folder.pk
    assert Folder.objects.filter(room=cast.room("single"), kind=Folder.Kind.RECORDINGS).count() == 1


@pytest.mark.django_db
def test_a_user_folder_named_recordings_becomes_the_recordings_folder(cast, publish) -> None:
    # A room from before rooms got their folder at creation, with a plain folder of that name.
    room = cast.room("single")
    Folder.objects.filter(room=room, kind=Folder.Kind.RECORDINGS).delete()
    existing = Folder.objects.create(room=room, name="Recordings")
    entry = publish("single")
    assert entry.folder_id == existing.pk
    existing.refresh_from_db()
    assert existing.kind == Folder.Kind.RECORDINGS


def collaborator_roles(entry: MediaEntry) -> dict[str, str]:
    return dict(entry.collaborators.values_list("user__username", "role"))


@pytest.mark.django_db
def test_single_room_access(cast, publish) -> None:
    entry = publish("single")
    assert entry.creator == cast.users["starter"] and entry.owner == cast.users["host"]
    assert collaborator_roles(entry) == {"coeditor": "co_editor", "copublisher": "co_publisher"}
    assert not ChannelPublication.objects.filter(entry=entry).exists()


@pytest.mark.django_db
def test_channel_room_access_and_publication(cast, publish) -> None:
    channel = cast.demo.channel
    channel.owner = cast.users["admin"]  # make the channel owner differ from the room owner
    channel.save()
    entry = publish("channel")
    assert entry.owner == cast.users["admin"] and entry.creator == cast.users["starter"]
    assert collaborator_roles(entry) == {"coeditor": "co_editor", "copublisher": "co_publisher"}
    publication = ChannelPublication.objects.get(entry=entry)
    assert publication.channel == channel and publication.published_by == cast.users["starter"]


@pytest.mark.django_db
def test_integration_room_makes_the_creator_the_owner(cast, publish) -> None:
    room = cast.room("integration")
    assert room.origin == Room.Origin.INTEGRATION
    entry = publish("integration")
    assert entry.owner == cast.users["starter"] == entry.creator
    assert collaborator_roles(entry) == {"coeditor": "co_editor", "copublisher": "co_publisher"}


def notices_by_user(recording: Recording) -> dict[str, int | None]:
    return {
        n.user.username: n.entry_id for n in RecordingNotice.objects.filter(recording=recording).select_related("user")
    }


@pytest.mark.django_db
def test_notices_with_a_link_for_access_and_without_for_other_leaders(cast, publish) -> None:
    entry = publish("single")
    assert notices_by_user(entry.source_recording) == {
        "starter": entry.pk,
        "host": entry.pk,
        "coeditor": entry.pk,
        "copublisher": entry.pk,
        "moderator": None,  # a room moderator without access: told it is available to its owner
    }


@pytest.mark.django_db
def test_integration_room_owner_is_told_without_a_link(cast, publish) -> None:
    entry = publish("integration")
    notices = notices_by_user(entry.source_recording)
    assert notices["starter"] == entry.pk and notices["host"] is None and notices["moderator"] is None
    assert "participant" not in notices and "outsider" not in notices


@pytest.mark.django_db
def test_channel_room_notices_follow_channel_roles(cast, publish) -> None:
    entry = publish("channel")
    notices = notices_by_user(entry.source_recording)
    assert notices["host"] == entry.pk and notices["starter"] == entry.pk
    assert notices["moderator"] is None  # channel moderator, no access
    assert "member" not in notices and "participant" not in notices


@pytest.mark.django_db
def test_realtime_events_go_to_each_persons_group_after_commit(
    cast, mp4_file, django_capture_on_commit_callbacks
) -> None:
    layer = get_channel_layer()
    inbox = {}
    for username in ("starter", "moderator"):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(f"user.{cast.users[username].pk}", channel)
        inbox[username] = channel
    recording = make_recording(cast.room("single"), cast.users["starter"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entry = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert len(callbacks) == 1  # nothing is sent before the commit
    callbacks[0]()
    linked = async_to_sync(layer.receive)(inbox["starter"])["payload"]
    notice = RecordingNotice.objects.get(recording=recording, user=cast.users["starter"])
    assert linked == {
        "type": "file_available",
        "recording_id": recording.pk,
        "entry_id": entry.pk,
        "url": f"/media/{entry.pk}/",
        "text": "Your recording file is available",
        "notice_id": notice.pk,
        "seen_url": f"/notices/{notice.pk}/seen/",
    }
    unlinked = async_to_sync(layer.receive)(inbox["moderator"])["payload"]
    assert unlinked["entry_id"] is None and unlinked["url"] is None
    assert unlinked["text"] == "The recording is available to its owner"


@pytest.mark.django_db
def test_a_broken_channel_layer_does_not_fail_the_publish(
    cast, mp4_file, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    class Broken:
        async def group_send(self, group: str, message: dict) -> None:
            raise ConnectionError("redis down")

    monkeypatch.setattr(events, "get_channel_layer", lambda: Broken())
    recording = make_recording(cast.room("single"), cast.users["starter"])
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert RecordingNotice.objects.filter(recording=recording, entry=entry).exists()


@pytest.mark.django_db
def test_given_poster_is_used(cast, mp4_file, tmp_path) -> None:
    poster = tmp_path / "frame.png"
    poster.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    recording = make_recording(cast.room("single"), cast.users["starter"])
    entry = services.publish_recording(recording=recording, mp4_path=str(mp4_file()), poster_path=str(poster))
    assert entry.poster.name.endswith("/poster.png")
    assert default_storage.open(entry.poster.name).read() == poster.read_bytes()


@pytest.mark.django_db
def test_republish_after_the_owner_deleted_the_entry_makes_a_new_one(
    cast, publish, mp4_file, django_capture_on_commit_callbacks
) -> None:
    entry = publish("single")
    recording = entry.source_recording
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_entry(entry=entry)
        services.purge_entry(entry_id=entry.pk)  # the recycle bin's time is over
    assert not default_storage.exists(f"recordings/{recording.uid}/recording.mp4")
    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.publish_recording(recording=recording, mp4_path=str(mp4_file()))
    assert fresh.pk != entry.pk and default_storage.exists(fresh.file.name)
    assert os.path.getsize(default_storage.path(fresh.file.name)) == fresh.size


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_give_one_outcome(cast, mp4_file, library_settings) -> None:
    """A Celery redelivery racing the first run: one entry, one file, one set of notices."""
    import threading

    from django.db import close_old_connections, connection

    recording = make_recording(cast.room("channel"), cast.users["starter"])
    paths = [str(mp4_file()), str(mp4_file())]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run(path: str) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(services.publish_recording(recording=recording, mp4_path=path).pk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    assert len(results) == 2 and all(isinstance(r, int) for r in results) and results[0] == results[1], results
    assert MediaEntry.objects.count() == 1 and ChannelPublication.objects.count() == 1
    assert sorted(notices_by_user(recording)) == ["coeditor", "copublisher", "host", "moderator", "starter"]
    assert len(stored_files(library_settings)) == 2
    assert RecordingTransition.objects.filter(recording=recording, to_state="available").count() == 1
