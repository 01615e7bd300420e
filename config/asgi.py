"""ASGI entry point: segment uploads to the ingest endpoint, other HTTP to Django,
websockets through origin and auth checks."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from recordings.asgi import IngestRouter  # noqa: E402
from rooms.joins import LazyAuthMiddlewareStack  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # The run command serves static files itself; production puts them behind the proxy (collectstatic).
    from config.errors import ProductStaticFilesHandler

    django_asgi_app = ProductStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": IngestRouter(django_asgi_app),
        # The person is read in the room's join batch, in the same database trip as the rest of the join
        # (rooms/joins.py): a consumer reads scope["user"] on the database thread, never on the event loop.
        "websocket": AllowedHostsOriginValidator(LazyAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
