"""Reads of the webhooks app."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from webhooks.models import Attempt, Delivery, Endpoint


def endpoints_for(*, room_id: int | None, event_type: str) -> list[Endpoint]:
    """The active endpoints that hear `event_type` of this room: site-wide ones and the room's own.

    An event of no room (an entry outside any room) goes to site-wide endpoints only.
    """
    scope = Q(room__isnull=True) | Q(room_id=room_id) if room_id is not None else Q(room__isnull=True)
    return [endpoint for endpoint in Endpoint.objects.filter(scope, is_active=True) if endpoint.wants(event_type)]


def due_deliveries(*, now: datetime, queued_before: datetime) -> QuerySet[Delivery]:
    """Pending deliveries whose time has come, no worker holds, and no task is waiting for."""
    return (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=queued_before))
    )


def recent_deliveries(*, endpoint: Endpoint, limit: int = 20) -> list[Delivery]:
    return list(endpoint.deliveries.select_related("event").prefetch_related("attempt_log")[:limit])


def attempts_of(delivery: Delivery) -> list[Attempt]:
    return list(delivery.attempt_log.all())


def endpoints_of_room(*, room_id: int) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(room_id=room_id)


def room_endpoints(*, room_id: int, deliveries: int = 5) -> list[tuple[Endpoint, list[Delivery]]]:
    """The room's endpoints, each with its latest deliveries (newest first), for the owner's page."""
    return [
        (endpoint, recent_deliveries(endpoint=endpoint, limit=deliveries))
        for endpoint in endpoints_of_room(room_id=room_id).order_by("created_at", "pk")
    ]


def room_endpoint(*, room_id: int, endpoint_id: int) -> Endpoint | None:
    return endpoints_of_room(room_id=room_id).filter(pk=endpoint_id).first()
