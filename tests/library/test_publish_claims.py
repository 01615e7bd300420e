"""Publishing runs under the recording's work claim: once at a time, retried, then failed with its reason.

Real commits (transaction=True): the heartbeat is written from a helper thread on its own
connection, as it is in a worker.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from media_library import storage, tasks
from media_library.models import MediaEntry
from recordings import deadlines as recording_deadlines
from recordings import services as recording_services
from recordings.models import Recording, RecordingTransition
from tests.library.conftest import make_recording

pytestmark = pytest.mark.django_db(transaction=True)


def due_publish(recording: Recording, mp4: str) -> None:
    """A processed recording whose publish step was queued a while ago (as finalize leaves it)."""
    Recording.objects.filter(pk=recording.pk).update(
        output_path=mp4, work_step="publish", work_due_at=timezone.now() - timedelta(seconds=30)
    )


def test_a_publish_slower_than_the_stale_interval_runs_once(cast, mp4_file, monkeypatch, settings) -> None:
    settings.WORK_STALE_SECONDS = 1.0
    recording = make_recording(cast.room("single"), cast.users["starter"])
    due_publish(recording, str(mp4_file()))
    uploads: list[str] = []
    real_put = storage.put_file

    def slow_put(**kwargs: object) -> None:
        # A slow link, injected: three stale intervals for one upload (a real throttled S3 is not at hand).
        uploads.append(str(kwargs["name"]))
        if str(kwargs["name"]).endswith(".mp4"):
            time.sleep(3.0)
        real_put(**kwargs)

    monkeypatch.setattr(storage, "put_file", slow_put)
    first: dict[str, int | None] = {}

    def deliver() -> None:
        try:
            first["entry"] = tasks.publish_recording_task(recording.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=deliver)
    worker.start()
    time.sleep(1.8)  # past the stale interval: only the heartbeat keeps the claim
    assert worker.is_alive()
    assert recording_deadlines.sweep()["work_requeued"] == 0  # the sweep sees a live claim
    assert tasks.publish_recording_task(recording.pk) is None  # a second delivery does nothing
    heartbeat = Recording.objects.get(pk=recording.pk).work_heartbeat
    assert heartbeat is not None and timezone.now() - heartbeat < timedelta(seconds=1)
    worker.join(timeout=30)

    assert first["entry"] is not None
    assert [name for name in uploads if name.endswith(".mp4")] == [f"recordings/{recording.uid}/recording.mp4"]
    assert MediaEntry.objects.filter(source_recording=recording).count() == 1
    assert RecordingTransition.objects.filter(recording=recording, to_state="available").count() == 1
    done = Recording.objects.get(pk=recording.pk)
    assert done.state == Recording.State.AVAILABLE and done.work_heartbeat is None


def test_a_stalled_publish_is_taken_over_once_its_heartbeat_is_stale(cast, mp4_file, settings) -> None:
    settings.WORK_STALE_SECONDS = 1.0
    recording = make_recording(cast.room("single"), cast.users["starter"])
    due_publish(recording, str(mp4_file()))
    # A worker claimed it and died: its heartbeat stops.
    assert recording_services.claim_step(recording_id=recording.pk, step="publish")
    assert tasks.publish_recording_task(recording.pk) is None  # fresh: not taken over
    Recording.objects.filter(pk=recording.pk).update(work_heartbeat=timezone.now() - timedelta(seconds=2))
    assert recording_deadlines.sweep()["work_requeued"] == 1  # queued again (eagerly published here)
    assert Recording.objects.get(pk=recording.pk).state == Recording.State.AVAILABLE
    assert MediaEntry.objects.filter(source_recording=recording).count() == 1


def test_a_publish_that_keeps_failing_fails_with_its_reason_and_the_admin_retry_succeeds(
    cast, mp4_file, settings, tmp_path
) -> None:
    working_storage = settings.STORAGES
    settings.PUBLISH_MAX_ATTEMPTS = 3
    # Storage that cannot be written, for real: its root lies under a plain file.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.STORAGES = {
        **working_storage,
        "default": {**working_storage["default"], "OPTIONS": {"location": str(blocker / "media")}},
    }
    recording = make_recording(cast.room("single"), cast.users["starter"])
    Recording.objects.filter(pk=recording.pk).update(output_path=str(mp4_file()))
    assert recording_services.retry_publishing(recording_id=recording.pk) is not None  # publish is due; eager

    failed = Recording.objects.get(pk=recording.pk)
    assert failed.state == Recording.State.FAILED, failed.state
    assert failed.work_attempts == 3
    assert failed.error.startswith("Publishing failed:") and "not-a-directory" in failed.error
    assert not MediaEntry.objects.filter(source_recording=recording).exists()

    # Its hosts see it and why (My Media), and so do admins (the recordings list).
    host = Client()
    host.force_login(cast.users["host"])
    page = host.get("/my-media/").content.decode()
    assert "Publishing failed:" in page and "An administrator can retry it." in page
    admin = Client()
    admin.force_login(cast.users["admin"])
    assert "Publishing failed:" in admin.get("/admin/recordings/recording/").content.decode()

    # Storage is back; the admin retries.
    settings.STORAGES = working_storage
    response = admin.post(
        "/admin/recordings/recording/", {"action": "retry_publishing", "_selected_action": [recording.pk]}, follow=True
    )
    assert "Publishing queued: 1 recording" in response.content.decode()
    done = Recording.objects.get(pk=recording.pk)
    assert done.state == Recording.State.AVAILABLE and done.error == ""
    assert MediaEntry.objects.filter(source_recording=recording).count() == 1
    assert "Publishing failed:" not in host.get("/my-media/").content.decode()
