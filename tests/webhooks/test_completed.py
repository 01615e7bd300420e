"""Exactly one `recording.completed` per recording, driven through the real pipeline and publishing.

A recording of real WebM segments is stopped, composed, assembled and published (tasks run eagerly
on commit, as in tests/pipeline); then it is published again, the publish task runs twice, and an
admin rebuilds it from its segments: the receiver still hears `recording.completed` once.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from media_library.models import MediaEntry
from media_library.tasks import publish_recording_task
from recordings import pipeline, services
from recordings.models import Recording, RecordingTransition
from tests.pipeline.conftest import Part, build_recording
from webhooks import services as webhook_services
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_windows(settings):
    """As tests/pipeline's: short composition windows, the fastest preset."""
    settings.COMPOSE_WINDOW_SECONDS = 4.0
    settings.COMPOSE_PRESET = "ultrafast"
    return settings


def test_one_recording_completed_per_recording(demo, short_windows, receiver) -> None:
    room = demo.rooms["single"]
    site = webhook_services.create_endpoint(url=receiver.url, room=None, created_by=None)
    own = webhook_services.create_endpoint(
        url=receiver.url, room=room, events=["recording.completed"], created_by=demo.users["host"]
    )
    receiver.secrets += [site.secret, own.secret]

    recording = build_recording(demo, [Part("host", "red", start=0.5, count=1, length=3.0)], stop_at=4.0)
    services.begin_processing(recording_id=recording.pk)  # finalize, then publish, eagerly on commit
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE, recording.error
    entry = MediaEntry.objects.get(source_recording=recording)

    # Published again, by the admin's retry and by the publish task running twice.
    assert services.retry_publishing(recording_id=recording.pk) is not None
    publish_recording_task(recording.pk)
    publish_recording_task(recording.pk)
    # Rebuilt from its segments: available -> processing -> available once more.
    assert pipeline.retry_from_segments(recording) is not None
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE, recording.error
    assert RecordingTransition.objects.filter(recording=recording, to_state="available").count() == 2

    assert all(hit.verified is not None for hit in receiver.received), "a signature did not verify"
    completed = receiver.of_type("recording.completed")
    assert len(completed) == 2  # once to each endpoint
    assert {hit.headers["webhook-id"] for hit in completed} == {completed[0].headers["webhook-id"]}
    assert Delivery.objects.filter(event__type="recording.completed").count() == 2
    assert sorted(hit.type for hit in receiver.received) == [
        "recording.completed",
        "recording.completed",
        "recording.started",
        "recording.stopped",
    ]  # the room's endpoint asked for recording.completed only
    data = completed[0].verified["data"]
    assert data["recording"]["id"] == str(recording.uid) and data["recording"]["state"] == "available"
    assert data["entry"]["id"] == entry.pk and data["entry"]["title"] == entry.title
    assert data["entry"]["url"] == "https://meetings.example.test" + reverse("media_library:entry", args=[entry.pk])
    assert data["entry"]["download_url"].startswith("https://meetings.example.test/")
