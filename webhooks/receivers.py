"""How webhooks hear the apps below (wired in WebhooksConfig.ready): events written in their transaction.

A webhook must never break what it reports: each receiver writes in a savepoint and logs its own
failure instead of raising into the recording's or the library's transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from media_library import signals as library_signals
from media_library.models import MediaEntry
from recordings import signals as recording_signals
from recordings.models import Recording
from webhooks import services

logger = logging.getLogger(__name__)


@receiver(recording_signals.recording_state_changed, dispatch_uid="webhooks.recording_state_changed")
def recording_moved(
    sender: type, recording: Recording, from_state: str, to_state: str, transition_id: int, **kwargs: Any
) -> None:
    if to_state not in services.RECORDING_EVENTS:
        return
    try:
        with transaction.atomic():
            services.record_recording_event(recording=recording, to_state=to_state, transition_id=transition_id)
    except Exception:
        logger.exception("webhooks: recording %s -> %s not recorded as an event", recording.pk, to_state)


@receiver(library_signals.entry_deleted, dispatch_uid="webhooks.entry_deleted")
def entry_deleted(sender: type, entry: MediaEntry, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            services.record_entry_deleted(entry=entry)
    except Exception:
        logger.exception("webhooks: deletion of entry %s not recorded as an event", entry.pk)
