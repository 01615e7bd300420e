from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "recordings"
    verbose_name = "Recordings"

    def ready(self) -> None:
        # Listen to the meetings app below (a session ended, a room closed).
        from recordings import receivers  # noqa: F401
