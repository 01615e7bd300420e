"""Celery tasks of the media library: thin, take ids, call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from media_library import deadlines, presenting, services


@shared_task(name="media_library.tasks.publish_recording", acks_late=True, ignore_result=True)
def publish_recording_task(recording_id: int) -> int | None:
    """Publish a processed recording from its verified MP4 (services.publish_step claims it first)."""
    outcome = services.publish_step(recording_id=recording_id)
    if outcome.retry_in is not None:
        enqueue_publish(recording_id, countdown=outcome.retry_in)
    return outcome.entry.pk if outcome.entry is not None else None


def enqueue_publish(recording_id: int, *, countdown: float | None = None) -> None:
    """Queue a publish once the current transaction commits (the worker must see what we saw).

    Its queue comes from the settings' task routes (the deployment's media queue).
    """

    def send() -> None:
        if countdown:
            publish_recording_task.apply_async(args=(recording_id,), countdown=countdown)
        else:
            publish_recording_task.apply_async(args=(recording_id,))

    transaction.on_commit(send)


@shared_task(name="media_library.tasks.sweep_retention", ignore_result=True)
def sweep_retention() -> None:
    """Retention warnings, the policy's deletions and the recycle bin's purges (media_library.deadlines)."""
    deadlines.sweep()


@shared_task(name="media_library.tasks.prepare_presentation", acks_late=True, ignore_result=True)
def prepare_presentation_task(entry_id: int) -> int:
    """An uploaded PDF's pages, rendered before anyone presents it (presenting.prepare_pages)."""
    return presenting.prepare_pages(entry_id=entry_id)
