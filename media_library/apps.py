from django.apps import AppConfig


class MediaLibraryConfig(AppConfig):
    name = "media_library"
    verbose_name = "Media library"

    def ready(self) -> None:
        # Listen to the apps below (a room made, a recording ready to publish).
        from media_library import receivers  # noqa: F401
