"""Deadlines kept in rows and enforced by an idempotent sweep (DESIGN.md "Timers are deadlines in rows").

Celery beat runs `sweep` every few seconds. Each step selects what is due and
moves it with the same guarded transitions a click uses, so a sweep that runs
twice, or races a host, changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import LiveSession
from recordings import events as recording_events
from recordings import services as recording_services
from recordings.models import Recording

logger = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Act on every deadline that has passed; returns what it did, for logs and tests."""
    now = timezone.now()
    done = {"presences_expired": meeting_services.expire_presences()}

    done["host_left"] = 0
    for session in LiveSession.objects.filter(host_left_deadline__lte=now).exclude(state=LiveSession.State.ENDED):
        done["host_left"] += meeting_services.end_session(session=session, reason=LiveSession.EndReason.HOST_LEFT)

    done["session_cap"] = 0
    for session in LiveSession.objects.filter(max_end_at__lte=now).exclude(state=LiveSession.State.ENDED):
        done["session_cap"] += meeting_services.end_session(session=session, reason=LiveSession.EndReason.SESSION_CAP)

    done["recording_cap"] = 0
    for recording in Recording.objects.filter(
        state__in=(Recording.State.STARTING, Recording.State.RECORDING), cap_deadline__lte=now
    ):
        done["recording_cap"] += (
            recording_services.stop_recording(
                recording=recording,
                reason=Recording.StopReason.RECORDING_CAP,
                why=recording_events.CAP_REACHED,
            )
            is not None
        )

    done["no_media"] = 0
    for recording in Recording.objects.filter(state=Recording.State.STARTING, first_media_deadline__lte=now):
        done["no_media"] += (
            recording_services.fail_recording(
                recording_id=recording.pk,
                error=recording_events.NO_MEDIA,
                from_states=(Recording.State.STARTING,),
            )
            is not None
        )

    done["processing"] = 0
    grace_cutoff = now - timedelta(seconds=settings.STOP_GRACE_SECONDS)
    for recording in Recording.objects.filter(state=Recording.State.STOPPING, stopped_at__lte=grace_cutoff):
        done["processing"] += recording_services.begin_processing(recording_id=recording.pk) is not None

    from recordings import pipeline

    done["windows_queued"] = pipeline.schedule_due_windows()
    done["finalize_requeued"] = pipeline.requeue_stalled_finalizes()

    if any(done.values()):
        logger.info("sweep: %s", done)
    return done
