"""Webhook endpoints in the admin: register, the delivery log, send a test event, rotate the secret."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import ReadOnlyInline
from webhooks import selectors, services
from webhooks.forms import EndpointForm
from webhooks.models import Attempt, Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "scope", "event_list", "is_active")
    list_filter = ("is_active", ("room", admin.EmptyFieldListFilter))
    search_fields = ("url", "description", "room__title")
    autocomplete_fields = ("room",)
    readonly_fields = ("secret", "previous_secret_until", "created_by", "created_at", "delivery_log")
    fieldsets = (
        (None, {"fields": ("url", "description", "room", "events", "is_active")}),
        (
            "Signing",
            {
                "fields": ("secret", "previous_secret_until"),
                "description": "Give the secret to the receiver; it verifies each event's webhook-signature "
                "with it. “Rotate the secret” makes a new one; the old one keeps signing for a while.",
            },
        ),
        ("Delivery log", {"fields": ("delivery_log",)}),
        ("Registered", {"fields": ("created_by", "created_at")}),
    )
    actions = ["send_test_event", "rotate_secret"]

    @admin.display(description="Scope", ordering="room__title")
    def scope(self, obj: Endpoint) -> str:
        return str(obj.room) if obj.room_id else "Site-wide"

    @admin.display(description="Events")
    def event_list(self, obj: Endpoint) -> str:
        return ", ".join(obj.events) if obj.events else "every event"

    @admin.display(description="Previous secret signs until")
    def previous_secret_until(self, obj: Endpoint) -> str:
        if not obj.previous_secret or obj.previous_secret_expires_at is None:
            return "–"
        return f"{obj.previous_secret_expires_at:%Y-%m-%d %H:%M:%S %Z}"

    @admin.display(description="Recent deliveries (newest first)")
    def delivery_log(self, obj: Endpoint) -> SafeString | str:
        """Each delivery with its tries: when, the answer's status or the error, how long, what it said.

        A list, not a table, so that it reads at any width (a phone included).
        """
        if obj.pk is None:
            return "–"
        items = []
        for delivery in selectors.recent_deliveries(endpoint=obj):
            tries = format_html_join(
                "",
                "<li>{} — {} in {} ms{}</li>",
                (
                    (
                        f"{attempt.at:%Y-%m-%d %H:%M:%S}",
                        f"HTTP {attempt.status_code}" if attempt.status_code else attempt.error,
                        attempt.duration_ms,
                        format_html("; answered <code>{}</code>", attempt.response_body[:120])
                        if attempt.response_body
                        else "",
                    )
                    for attempt in delivery.attempt_log.all()
                ),
            )
            items.append(
                format_html(
                    "<li><strong>{}</strong> · {} · {} tr{} · <code>{}</code><ul>{}</ul></li>",
                    delivery.event.type,
                    delivery.get_status_display(),
                    delivery.attempts,
                    "y" if delivery.attempts == 1 else "ies",
                    delivery.event.message_id,
                    tries or format_html("<li>{}</li>", "Not tried yet."),
                )
            )
        if not items:
            return "No deliveries yet."
        return format_html("<ul>{}</ul>", format_html_join("", "{}", ((item,) for item in items)))

    def save_model(self, request: HttpRequest, obj: Endpoint, form: EndpointForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]  # the admin is signed in
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        user = request.user if request.user.is_authenticated else None
        sent = [services.send_test_event(endpoint=endpoint, by=user) for endpoint in queryset]
        self.message_user(
            request,
            f"A webhook.test event was queued for {len(sent)} endpoint(s); its outcome shows in the delivery log.",
            messages.SUCCESS,
        )

    @admin.action(description="Rotate the secret (the old one signs too for a while)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            services.rotate_secret(endpoint=endpoint)
        self.message_user(
            request,
            f"New secret for {queryset.count()} endpoint(s); events carry a signature with the old one too "
            "until the time shown on each endpoint.",
            messages.SUCCESS,
        )


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = ("at", "status_code", "duration_ms", "error", "response_body", "succeeded")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "event_type", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", "event__type", "endpoint")
    search_fields = ("endpoint__url", "event__uid", "event__key")
    readonly_fields = (
        "endpoint", "event", "status", "attempts", "next_attempt_at", "queued_at", "locked_until",
        "last_status_code", "last_error", "created_at", "delivered_at",
    )  # fmt: skip
    inlines = [AttemptInline]
    actions = ["retry_now"]

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Try again now", permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        retried = [services.retry_now(delivery=delivery) for delivery in queryset.exclude(status="succeeded")]
        self.message_user(request, f"{len(retried)} delivery(ies) queued again.", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "message_id", "room", "created_at")
    list_filter = ("type",)
    search_fields = ("uid", "key")
    readonly_fields = ("uid", "type", "key", "room", "data", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
