"""Webhook endpoints, the events they are sent, one delivery per (endpoint, event) and its attempts.

An outbox (docs/decisions/0020): the event and its deliveries are written in the transaction of
the change they tell about, so nothing is lost while Redis or the receiver is down; the sweep
queues whatever is due. Delivery status is named `status`, never `state` (only the owning services
write a `.state`: tests/architecture).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class EventType(models.TextChoices):
    RECORDING_STARTED = "recording.started", "recording.started"
    RECORDING_STOPPED = "recording.stopped", "recording.stopped"
    RECORDING_COMPLETED = "recording.completed", "recording.completed"
    RECORDING_FAILED = "recording.failed", "recording.failed"
    ENTRY_DELETED = "entry.deleted", "entry.deleted"
    TEST = "webhook.test", "webhook.test"


# What an endpoint can subscribe to (the test event is sent on request only).
SUBSCRIBABLE = [choice for choice in EventType.choices if choice[0] != EventType.TEST]


class Endpoint(models.Model):
    """A URL that receives signed events: site-wide (no room, registered by an admin) or one room's."""

    url = models.URLField(max_length=500, help_text="Where events are POSTed (http:// or https://).")
    description = models.CharField(max_length=200, blank=True)
    room = models.ForeignKey(
        "meetings.Room",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text="Only this room's events; empty for every room's (site-wide).",
    )
    events = models.JSONField(
        default=list, blank=True, help_text="The event types sent to it; none chosen means every event."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive endpoints are sent nothing.")
    # Signing needs the secret itself (an HMAC key), so it is stored as it is, like a password
    # the product must present, and shown to staff and to the endpoint's room owner only.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Until then the previous secret signs too (rotation)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["room_id", "url", "pk"]

    def __str__(self) -> str:
        return f"{self.url} ({self.room or 'site-wide'})"

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


class Event(models.Model):
    """Something that happened, once: `key` makes a second announcement of the same fact a no-op."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    key = models.CharField(max_length=120, unique=True, help_text="The fact this event is about, once.")
    room = models.ForeignKey("meetings.Room", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} ({self.message_id})"

    @property
    def message_id(self) -> str:
        """The webhook-id header: the same on every retry and every endpoint (receivers dedupe on it)."""
        return f"msg_{self.uid.hex}"


class Delivery(models.Model):
    """One event to one endpoint: retried with back-off until it succeeds or its schedule runs out."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When it is due (pending only).")
    # Its task: when it was queued (the sweep queues again one lost for long), and the lease of the
    # worker sending it (a second worker does not send while it holds; a dead one's lease lapses).
    queued_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            # Exactly once per endpoint and fact (recording.completed of a recording, ...).
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event.type} to {self.endpoint.url} ({self.status})"


class Attempt(models.Model):
    """One HTTP try of a delivery, as the admin's delivery log shows it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the answer (truncated).")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} at {self.at:%Y-%m-%d %H:%M:%S}"
