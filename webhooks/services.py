"""Every write of the webhooks app: endpoints and their secrets, events, deliveries and their tries.

Events are written by receivers inside the transaction of the change they announce (an outbox):
one Event per fact (`key`), one Delivery per (endpoint, event). The HTTP call is made only by
`attempt_delivery`, run by the webhooks task on its own queue, never inside a recording's
transaction or task. Signing is the `standardwebhooks` package's.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks import Webhook

from media_library.models import MediaEntry
from meetings.models import Room, User
from recordings.models import Recording
from webhooks import http_client, payloads, selectors, targets
from webhooks.models import SUBSCRIBABLE, Attempt, Delivery, Endpoint, Event, EventType

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver"
SECRET_PREFIX = "whsec_"
RESPONSE_BODY_MAX = 1000  # characters of an answer kept in the attempt log
USER_AGENT = "Meetings-Webhooks/1.0"

# Which recording state announces which event (recordings.signals.recording_state_changed).
RECORDING_EVENTS: dict[str, str] = {
    Recording.State.RECORDING: EventType.RECORDING_STARTED,
    Recording.State.STOPPING: EventType.RECORDING_STOPPED,
    Recording.State.AVAILABLE: EventType.RECORDING_COMPLETED,
    Recording.State.FAILED: EventType.RECORDING_FAILED,
}


# --- Endpoints and secrets ------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def clean_events(events: Iterable[str]) -> list[str]:
    known = {value for value, _ in SUBSCRIBABLE}
    chosen = [event for event in events if event]
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ValidationError(f"Unknown event type: {', '.join(unknown)}.")
    return sorted(set(chosen))


def create_endpoint(
    *, url: str, room: Room | None, events: Iterable[str] = (), description: str = "", created_by: User | None
) -> Endpoint:
    """Register an endpoint (the caller checked who may: staff site-wide, a room's owner for it)."""
    return Endpoint.objects.create(
        url=targets.validate_url(url),
        room=room,
        events=clean_events(events),
        description=description.strip()[:200],
        secret=new_secret(),
        created_by=created_by,
    )


# A room's owner may register this many endpoints for it: each event is one delivery per endpoint.
ROOM_ENDPOINTS_MAX = 10


def create_room_endpoint(*, room: Room, url: str, events: Iterable[str], description: str, by: User) -> Endpoint:
    """A room owner registers an endpoint for their room (the caller checked RoomAction.MANAGE_WEBHOOKS).

    Raises ValidationError with a message for the person: a URL the targets guard refuses, an
    unknown event, or a room that has its ROOM_ENDPOINTS_MAX already.
    """
    with transaction.atomic():
        # Locks the room row, so two forms sent at once cannot both take the last place.
        Room.objects.select_for_update().filter(pk=room.pk).first()
        if selectors.endpoints_of_room(room_id=room.pk).count() >= ROOM_ENDPOINTS_MAX:
            raise ValidationError(
                f"A room can have at most {ROOM_ENDPOINTS_MAX} webhook endpoints; delete one you no longer use."
            )
        return create_endpoint(url=url, room=room, events=events, description=description, created_by=by)


def set_active(*, endpoint: Endpoint, active: bool) -> Endpoint:
    """Disable (sent nothing; pending deliveries give up at their next try) or enable it again."""
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=active)
    endpoint.is_active = active
    return endpoint


def delete_endpoint(*, endpoint: Endpoint) -> None:
    """Remove it with its deliveries and their log (a task still queued for one finds nothing to send)."""
    endpoint.delete()


def rotate_secret(*, endpoint: Endpoint, now: datetime | None = None) -> Endpoint:
    """A new secret signs from now on; the old one also signs for WEBHOOK_SECRET_OVERLAP_SECONDS,
    so a receiver can switch to the new one at its own pace without refusing a single event."""
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def signing_secrets(endpoint: Endpoint, *, now: datetime) -> list[str]:
    """The current secret, then the previous one while its overlap lasts."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def signed_headers(endpoint: Endpoint, *, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """Standard Webhooks headers; webhook-signature holds one `v1,...` per live secret, space-separated."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=sent_at, data=body)
        for secret in signing_secrets(endpoint, now=sent_at)
    ]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


# --- Events: written in the transaction of the change ---------------------------------------------


def _queue_after_commit(delivery_ids: list[int]) -> None:
    """Queue each delivery's task once the transaction commits.

    robust: a broker that is down must not turn a committed recording transition into an error;
    the deliveries are in the database and the sweep queues them (WEBHOOK_REQUEUE_SECONDS).
    """

    def send() -> None:
        if DELIVER_TASK not in current_app.tasks:
            current_app.loader.import_default_modules()
        task = current_app.tasks[DELIVER_TASK]
        for delivery_id in delivery_ids:
            task.apply_async(args=(delivery_id,))

    if delivery_ids:
        transaction.on_commit(send, robust=True)


def record_event(*, event_type: str, key: str, room_id: int | None, data: dict[str, Any]) -> Event | None:
    """The event and one delivery per endpoint that hears it, once per `key`; None if nobody listens.

    Called inside the transaction of the change, so the event commits or rolls back with it. An
    event already recorded under `key` (a second publish, a task run twice) adds nothing.
    """
    endpoints = selectors.endpoints_for(room_id=room_id, event_type=event_type)
    if not endpoints:
        return None
    if Event.objects.filter(key=key).exists():
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            event = Event.objects.create(type=event_type, key=key, room_id=room_id, data=data)
    except IntegrityError:  # the same fact announced concurrently: the other one's event stands
        return None
    deliveries = Delivery.objects.bulk_create(
        [Delivery(endpoint=endpoint, event=event, next_attempt_at=now, queued_at=now) for endpoint in endpoints]
    )
    _queue_after_commit([delivery.pk for delivery in deliveries])
    return event


def record_recording_event(*, recording: Recording, to_state: str, transition_id: int) -> Event | None:
    """A recording moved to `to_state`: its event, if that state has one."""
    event_type = RECORDING_EVENTS.get(to_state)
    if event_type is None:
        return None
    data = payloads.recording_data(recording)
    if event_type == EventType.RECORDING_COMPLETED:
        entry = MediaEntry.objects.filter(source_recording=recording).first()
        data["entry"] = payloads.entry_data(entry) if entry is not None else None
        key = f"{event_type}:{recording.uid}"  # once per recording, however often it is published
    elif event_type == EventType.RECORDING_FAILED:
        data["reason"] = recording.error
        key = f"{event_type}:{transition_id}"  # each failure (an admin retry may fail again)
    else:
        key = f"{event_type}:{recording.uid}"
    return record_event(event_type=event_type, key=key, room_id=recording.room_id, data=data)


def record_entry_deleted(*, entry: MediaEntry) -> Event | None:
    recording = entry.source_recording
    data = {
        "entry": {"id": entry.pk, "title": entry.title, "kind": entry.kind},
        "room": payloads.room_data(entry.room),
        "recording": {"id": str(recording.uid)} if recording is not None else None,
    }
    key = f"{EventType.ENTRY_DELETED}:{entry.pk}"
    return record_event(event_type=EventType.ENTRY_DELETED, key=key, room_id=entry.room_id, data=data)


def send_test_event(*, endpoint: Endpoint, by: User | None = None) -> Delivery:
    """A `webhook.test` event to this endpoint only (the admin's and the room page's button)."""
    with transaction.atomic():
        event = Event.objects.create(
            type=EventType.TEST,
            key=f"{EventType.TEST}:{secrets.token_hex(16)}",
            room_id=endpoint.room_id,
            data={"endpoint": {"id": endpoint.pk, "url": endpoint.url}, "by": by.username if by else None},
        )
        now = timezone.now()
        delivery = Delivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=now, queued_at=now)
        _queue_after_commit([delivery.pk])
    return delivery


# --- Delivery: the only place that makes the HTTP call ---------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )


def retry_delay(attempts: int) -> float | None:
    """Seconds until the next try after `attempts` failed tries, or None when the schedule is spent."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_SECONDS
    return float(schedule[attempts - 1]) if 1 <= attempts <= len(schedule) else None


def attempt_delivery(*, delivery_id: int) -> Delivery | None:
    """One try of a due delivery; None if it is not due or another worker holds it.

    The claim is one conditional UPDATE (a duplicate task finds it taken or done and does nothing);
    its lease outlives the longest try, and a dead worker's lease lapses for the sweep to requeue.
    """
    now = timezone.now()
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    lease = now + timedelta(seconds=timeout * 3 + 30)
    claimed = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
        locked_until=lease, attempts=F("attempts") + 1, queued_at=None
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED, locked_until=None, next_attempt_at=None, last_error="endpoint disabled"
        )
        return Delivery.objects.get(pk=delivery_id)
    body = payloads.body(delivery.event)
    sent_at = timezone.now()
    headers = signed_headers(endpoint, message_id=delivery.event.message_id, sent_at=sent_at, body=body)
    result = http_client.post(endpoint.url, body=body.encode(), headers=headers, timeout=timeout)
    Attempt.objects.create(
        delivery=delivery,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=result.error[:500],
        response_body=result.body[:RESPONSE_BODY_MAX],
        succeeded=result.ok,
    )
    fields: dict[str, object] = {
        "locked_until": None,
        "last_status_code": result.status_code,
        "last_error": result.error[:500],
    }
    if result.ok:
        fields.update(status=Delivery.Status.SUCCEEDED, delivered_at=timezone.now(), next_attempt_at=None)
    else:
        delay = retry_delay(delivery.attempts)
        if delay is None:
            fields.update(status=Delivery.Status.FAILED, next_attempt_at=None)
            logger.warning("webhook delivery %s to %s failed for good: %s", delivery_id, endpoint.url, result.error)
        else:
            fields.update(next_attempt_at=timezone.now() + timedelta(seconds=delay))
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(**fields)
    return Delivery.objects.get(pk=delivery_id)


def queue_due(*, now: datetime | None = None) -> int:
    """The sweep: queue every due delivery with no task waiting (retries, and tasks lost with Redis)."""
    now = now or timezone.now()
    queued_before = now - timedelta(seconds=settings.WEBHOOK_REQUEUE_SECONDS)
    ids = list(selectors.due_deliveries(now=now, queued_before=queued_before).values_list("pk", flat=True)[:500])
    if not ids:
        return 0
    with transaction.atomic():
        Delivery.objects.filter(pk__in=ids).update(queued_at=now)
        _queue_after_commit(ids)
    return len(ids)


def retry_now(*, delivery: Delivery) -> Delivery:
    """An admin's retry: due at once; one that had failed for good gets a fresh schedule."""
    now = timezone.now()
    with transaction.atomic():
        update: dict[str, object] = {"status": Delivery.Status.PENDING, "next_attempt_at": now, "queued_at": now}
        if delivery.status == Delivery.Status.FAILED:
            update["attempts"] = 0
        Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.SUCCEEDED).update(**update)
        _queue_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery
