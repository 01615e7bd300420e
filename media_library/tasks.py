"""Celery tasks of the media library: thin, take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from media_library import services
from recordings.models import Recording

logger = logging.getLogger(__name__)


@shared_task(
    name="media_library.tasks.publish_recording",
    acks_late=True,
    autoretry_for=(services.PublishError,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def publish_recording_task(recording_id: int) -> int | None:
    """Publish a processed recording from its verified MP4 in the work area (admin retry / republish)."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or not recording.output_path:
        logger.warning("recording %s: nothing to publish", recording_id)
        return None
    entry = services.publish_recording(recording=recording, mp4_path=recording.output_path)
    return entry.pk


def enqueue_publish(recording_id: int) -> None:
    """Queue a publish once the current transaction commits (the worker must see what we saw)."""
    # Media work runs on the "media" queue (settings route only recordings.tasks.* there).
    transaction.on_commit(lambda: publish_recording_task.apply_async(args=[recording_id], queue="media"))
