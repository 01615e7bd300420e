from django.apps import AppConfig


class RoomsConfig(AppConfig):
    """The edges: the home and room pages and the room's websocket (no models)."""

    name = "rooms"
    verbose_name = "Rooms"
