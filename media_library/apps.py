from django.apps import AppConfig


class MediaLibraryConfig(AppConfig):
    name = "media_library"
    verbose_name = "Media library"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from meetings.models import Room

        # Every room's Media and Files has its Recordings folder from the start, however the room
        # was made (admin, seed, integration), not only once the first recording is published.
        post_save.connect(_give_room_its_recordings_folder, sender=Room, dispatch_uid="media_library.recordings_folder")


def _give_room_its_recordings_folder(
    sender: type, instance: object, created: bool, raw: bool = False, **kwargs: object
) -> None:
    if created and not raw:
        from media_library.services import ensure_recordings_folder

        ensure_recordings_folder(room=instance)
