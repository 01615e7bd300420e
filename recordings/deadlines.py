"""The recordings app's deadlines, kept in rows and enforced by an idempotent sweep.

DESIGN.md "Timers are deadlines in rows". Celery beat runs `sweep` every few seconds: the 24-hour
cap, the first-media time-out, the stop grace, the composition windows that are due, work
whose task was lost, and the media of published recordings (spool and fragment store). Each
step moves rows through the same guarded services a click uses.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from recordings import pipeline, services
from recordings.models import Recording
from recordings.notices import TEXTS

logger = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Act on every recording deadline that has passed; returns what it did, for logs and tests."""
    now = timezone.now()
    done = {"recording_cap": 0, "no_media": 0, "processing": 0}
    # A paused recording records nothing: its cap deadline moves by the pause's length on resume.
    for recording in Recording.objects.capturing().filter(cap_deadline__lte=now, paused_at__isnull=True):
        stopped = services.stop_recording(
            recording=recording, reason=Recording.StopReason.RECORDING_CAP, why=TEXTS.text("recording_cap")
        )
        done["recording_cap"] += stopped is not None
    for recording in Recording.objects.filter(state=Recording.State.STARTING, first_media_deadline__lte=now):
        failed = services.fail_recording(
            recording_id=recording.pk,
            error=TEXTS.text("recording_no_media"),
            from_states=(Recording.State.STARTING,),
        )
        done["no_media"] += failed is not None
    grace_cutoff = now - timedelta(seconds=settings.STOP_GRACE_SECONDS)
    for recording in Recording.objects.stopping().filter(stopped_at__lte=grace_cutoff):
        done["processing"] += services.begin_processing(recording_id=recording.pk) is not None
    done["windows_queued"] = pipeline.schedule_due_windows()
    done["windows_requeued"] = services.requeue_lost_windows()
    done["work_requeued"] = services.requeue_stalled_work()
    done["media_removed"] = services.remove_published_media(now=now)
    if any(done.values()):
        logger.info("recordings sweep: %s", done)
    return done
