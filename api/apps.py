from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The schema's description of our token authentication (a drf-spectacular extension).
        from api import schema  # noqa: F401
