"""The meetings app's deadlines, kept in rows and enforced by an idempotent sweep.

DESIGN.md "Timers are deadlines in rows". Celery beat runs `sweep` every few seconds. Each step
selects what is due and moves it with the same guarded service a click uses, so a sweep that
runs twice, or races a host, changes nothing the second time. Recordings sweep their own
deadlines (recordings.deadlines); a session that ends here stops its recording through
`meetings.signals.session_ended`.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from meetings import services
from meetings.models import LiveSession

logger = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Act on every session deadline that has passed; returns what it did, for logs and tests."""
    now = timezone.now()
    done = {"presences_expired": services.expire_presences(), "host_left": 0, "session_cap": 0}
    for session in LiveSession.objects.open().filter(host_left_deadline__lte=now):
        done["host_left"] += services.end_session(session=session, reason=LiveSession.EndReason.HOST_LEFT)
    for session in LiveSession.objects.open().filter(max_end_at__lte=now):
        done["session_cap"] += services.end_session(session=session, reason=LiveSession.EndReason.SESSION_CAP)
    if any(done.values()):
        logger.info("sessions sweep: %s", done)
    return done
