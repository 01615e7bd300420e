"""Thin Celery tasks: take ids, call the pipeline, which re-checks state and does only what is missing.

Publishing is the media library's task (`media_library.tasks.publish_recording`), queued when the
recordings app announces `recording_ready`.
"""

from __future__ import annotations

from celery import shared_task

from recordings import deadlines, pipeline

# Media tasks run on their own queue (settings.CELERY_TASK_ROUTES) with acks_late, so a worker
# killed mid-task gets the task redelivered, and the idempotent pipeline finishes the job.


@shared_task(name="recordings.tasks.compose_window", ignore_result=True, acks_late=True)
def compose_window_task(fragment_id: int) -> None:
    pipeline.compose_fragment(fragment_id)


@shared_task(name="recordings.tasks.finalize_recording", ignore_result=True, acks_late=True)
def finalize_recording_task(recording_id: int) -> None:
    pipeline.finalize(recording_id)


@shared_task(name="recordings.tasks.sweep_recordings", ignore_result=True)
def sweep_recordings() -> None:
    deadlines.sweep()
