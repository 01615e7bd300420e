"""Admin actions for recordings, kept here so the media library owns publishing.

Wire them into recordings/admin.py's RecordingAdmin with
    actions = [retry_publishing, republish_recordings]
"""

from __future__ import annotations

import os

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from media_library.tasks import enqueue_publish
from recordings.models import Recording

RETRYABLE_STATES = (Recording.State.PROCESSING, Recording.State.FAILED)


def _queue(modeladmin: admin.ModelAdmin, request: HttpRequest, recordings: list[Recording], verb: str) -> None:
    queued, skipped = [], []
    for recording in recordings:
        if recording.output_path and os.path.isfile(recording.output_path):
            enqueue_publish(recording.pk)
            queued.append(recording)
        else:
            skipped.append(recording)
    if queued:
        modeladmin.message_user(request, f"{verb} queued for {len(queued)} recording(s).", messages.SUCCESS)
    if skipped:
        names = ", ".join(str(r.pk) for r in skipped)
        modeladmin.message_user(
            request,
            f"Skipped recording(s) {names}: their composed MP4 is missing; re-run composition first.",
            messages.WARNING,
        )


@admin.action(description="Retry publishing (processing or failed recordings)", permissions=["change"])
def retry_publishing(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
    recordings = list(queryset)
    eligible = [r for r in recordings if r.state in RETRYABLE_STATES]
    other = len(recordings) - len(eligible)
    if other:
        modeladmin.message_user(
            request,
            f"{other} recording(s) are not processing or failed and were left alone; "
            "use “Republish” for available ones.",
            messages.WARNING,
        )
    _queue(modeladmin, request, eligible, "Publishing")


@admin.action(description="Republish (re-verify storage, recreate a deleted entry)", permissions=["change"])
def republish_recordings(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
    recordings = list(queryset)
    eligible = [r for r in recordings if r.state in (*RETRYABLE_STATES, Recording.State.AVAILABLE)]
    other = len(recordings) - len(eligible)
    if other:
        modeladmin.message_user(
            request, f"{other} recording(s) are still recording or held and were left alone.", messages.WARNING
        )
    _queue(modeladmin, request, eligible, "Republishing")
