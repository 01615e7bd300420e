from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Listen to the apps below (a recording moved, an entry deleted): an edge, like rooms.
        from webhooks import receivers  # noqa: F401
