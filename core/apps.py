from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: the realtime event transport, the notice texts, small file helpers. No models."""

    name = "core"
    verbose_name = "Core"
