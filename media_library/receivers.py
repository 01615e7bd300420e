"""How the media library reacts to what the apps below announce (wired in MediaLibraryConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from media_library import services
from media_library.tasks import enqueue_publish
from meetings.models import Room
from recordings import signals as recording_signals


@receiver(recording_signals.recording_ready, dispatch_uid="media_library.publish_when_ready")
def publish_when_ready(sender: type, recording_id: int, **kwargs: Any) -> None:
    """A recording's verified MP4 is ready: publish it into the library (after commit)."""
    enqueue_publish(recording_id)


@receiver(post_save, sender=Room, dispatch_uid="media_library.recordings_folder")
def give_the_room_its_recordings_folder(sender: type, instance: Room, created: bool, raw: bool = False,
                                        **kwargs: Any) -> None:  # fmt: skip
    """Every room's Media and Files has its Recordings folder from the start, however the room was
    made (admin, seed, integration), not only once the first recording is published."""
    if created and not raw:
        services.ensure_recordings_folder(room=instance)
