"""Webhook deliveries to a real receiver on loopback: signed, retried after 500s and timeouts, scoped.

Events come from the real services and signals (a recording started, stopped, failed; an entry
deleted). Tasks run eagerly in tests; a retry is made due by moving its time, never by sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from media_library import services as library_services
from media_library.models import MediaEntry
from meetings import services as meeting_services
from meetings.models import Room, User
from recordings import services as recording_services
from recordings.models import Recording
from webhooks import services, tasks
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def endpoint_for(receiver, *, room: Room | None = None, events: tuple[str, ...] = (), url: str | None = None):
    endpoint = services.create_endpoint(url=url or receiver.url, room=room, events=events, created_by=None)
    receiver.secrets.append(endpoint.secret)
    return endpoint


def start_capture(room: Room, user: User) -> Recording:
    """A recording of the room through the real services, up to "being recorded" (recording.started)."""
    meeting_services.open_or_create_session(room=room)
    recording, _ = recording_services.start_recording(room=room, user=user)
    recording_services.mark_capturing(recording_id=recording.pk, capture_began=timezone.now())
    return recording


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_delivery_is_signed_and_the_receiver_verifies_it(demo, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):  # the eager task runs on commit
        recording = start_capture(demo.rooms["single"], demo.users["host"])
    (hit,) = receiver.received
    assert hit.verified is not None, "the standardwebhooks library refused the signature"
    event = Event.objects.get(type="recording.started")
    assert hit.headers["webhook-id"] == event.message_id
    assert abs(int(hit.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 30
    assert hit.headers["content-type"] == "application/json"
    assert hit.verified["type"] == "recording.started"
    assert hit.verified["timestamp"].endswith("Z")
    data = hit.verified["data"]
    assert data["recording"]["id"] == str(recording.uid) and data["recording"]["state"] == "recording"
    assert data["room"] == {"id": demo.rooms["single"].pk, "title": demo.rooms["single"].title}
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    # A tampered body does not verify with the same headers.
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(hit.body.replace(b"recording", b"recordinG", 1), hit.headers)


def test_a_500_is_retried_on_schedule_with_the_same_event_id(demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    receiver.plan = [(500, 0.0)]
    recording = start_capture(demo.rooms["single"], demo.users["host"])
    with django_capture_on_commit_callbacks(execute=True):
        recording_services.fail_recording(recording_id=recording.pk, error="The disk was full.")
    delivery = Delivery.objects.get(event__type="recording.failed")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_delay = settings.WEBHOOK_RETRY_SCHEDULE_SECONDS[0]
    wait = delivery.next_attempt_at - timezone.now()
    assert wait == pytest.approx(timedelta(seconds=first_delay), abs=timedelta(seconds=2))
    attempt = Attempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.succeeded, attempt.response_body) == (500, False, '{"answer": 500}')

    tasks.deliver(delivery.pk)  # not due yet: a duplicate or early task sends nothing
    assert len(receiver.received) == 1
    make_due(delivery)
    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    first, second = receiver.received
    assert first.verified and second.verified
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # idempotency at the receiver
    assert second.verified["data"]["reason"] == "The disk was full."
    assert [a.status_code for a in Attempt.objects.filter(delivery=delivery).order_by("at", "pk")] == [500, 200]


def test_a_receiver_slower_than_the_timeout_is_tried_again(demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    receiver.plan = [(200, settings.WEBHOOK_TIMEOUT_SECONDS + 1.0)]  # answers only after we gave up
    with django_capture_on_commit_callbacks(execute=True):
        start_capture(demo.rooms["single"], demo.users["host"])
    delivery = Delivery.objects.get()
    attempt = Attempt.objects.get(delivery=delivery)
    assert delivery.status == "pending" and attempt.status_code is None
    assert "no answer within" in attempt.error
    assert attempt.duration_ms < (settings.WEBHOOK_TIMEOUT_SECONDS + 1.0) * 1000
    make_due(delivery)
    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_the_schedule_runs_over_a_day_then_the_delivery_fails(demo, receiver, settings):
    default = [5, 30, 120, 600, 3600, 10800, 21600, 43200, 43200]
    assert settings.WEBHOOK_RETRY_SCHEDULE_SECONDS == default
    assert sum(default[:-1]) < 24 * 3600 <= sum(default)  # the last try comes more than a day after the first
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [5, 30]
    endpoint = endpoint_for(receiver)
    receiver.plan = [(503, 0.0)] * 3
    delivery = services.send_test_event(endpoint=endpoint)
    for _ in range(3):
        make_due(delivery)
        tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    make_due(delivery)
    tasks.deliver(delivery.pk)
    assert len(receiver.received) == 3  # given up: no fourth try


def test_rotation_signs_with_both_secrets_during_the_overlap(demo, receiver):
    endpoint = endpoint_for(receiver)
    old = endpoint.secret
    services.rotate_secret(endpoint=endpoint)
    new = endpoint.secret
    assert new != old and endpoint.previous_secret == old
    delivery = services.send_test_event(endpoint=endpoint)
    tasks.deliver(delivery.pk)
    (hit,) = receiver.received
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(hit.body, hit.headers)["type"] == "webhook.test"
    assert Webhook(new).verify(hit.body, hit.headers)["type"] == "webhook.test"

    Endpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    delivery = services.send_test_event(endpoint=endpoint)
    tasks.deliver(delivery.pk)
    late = receiver.received[-1]
    assert len(late.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(late.body, late.headers)["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(late.body, late.headers)


def test_a_room_endpoint_hears_its_room_only(demo, receiver, django_capture_on_commit_callbacks):
    outsider = demo.users["outsider"]
    their_room = Room.objects.create(title="Outsider's room", owner=outsider, creator=outsider)
    theirs = endpoint_for(receiver, room=their_room)
    ours = endpoint_for(receiver, room=demo.rooms["single"], events=("recording.stopped",))
    site = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        recording = start_capture(demo.rooms["single"], demo.users["host"])
        recording_services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
    assert not Delivery.objects.filter(endpoint=theirs).exists()
    assert sorted(Delivery.objects.filter(endpoint=site).values_list("event__type", flat=True)) == [
        "recording.started",
        "recording.stopped",
    ]
    assert list(Delivery.objects.filter(endpoint=ours).values_list("event__type", flat=True)) == ["recording.stopped"]
    assert sorted(hit.type for hit in receiver.received) == [
        "recording.started",
        "recording.stopped",
        "recording.stopped",
    ]
    stopped = receiver.of_type("recording.stopped")[0].verified
    assert stopped["data"]["recording"]["stop_reason"] == "stopped_by_host"


def test_entry_deleted_is_announced_once(demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    room = demo.rooms["single"]
    entry = MediaEntry.objects.create(
        title="Slides", owner=demo.users["host"], creator=demo.users["host"], kind="document", room=room
    )
    entry_id = entry.pk
    with django_capture_on_commit_callbacks(execute=True):
        library_services.delete_entry(entry=entry)
    (hit,) = receiver.received
    assert hit.type == "entry.deleted"
    assert hit.verified["data"] == {
        "entry": {"id": entry_id, "title": "Slides", "kind": "document"},
        "room": {"id": room.pk, "title": room.title},
        "recording": None,
    }


def test_a_rolled_back_change_sends_nothing(demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    entry = MediaEntry.objects.create(title="Kept", owner=demo.users["host"], creator=demo.users["host"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            library_services.delete_entry(entry=entry)
            raise RuntimeError("the deletion is rolled back")
    assert not Event.objects.exists() and receiver.received == []


def test_a_failing_endpoint_never_fails_the_recording(demo, receiver, django_capture_on_commit_callbacks):
    endpoint_for(receiver, url="http://127.0.0.1:9/nobody-listens")  # the discard port: refused
    with django_capture_on_commit_callbacks(execute=True):
        recording = start_capture(demo.rooms["single"], demo.users["host"])
        stopped = recording_services.stop_recording(recording=recording, reason=Recording.StopReason.STOPPED_BY_HOST)
    assert stopped is not None and stopped.state == "stopping"
    assert Delivery.objects.filter(status="pending").count() == 2
    assert all(attempt.error for attempt in Attempt.objects.all())
    # The HTTP call runs on the webhooks queue only, apart from media work and the sweeps.
    queue = settings.CELERY_TASK_ROUTES["webhooks.tasks.deliver"]["queue"]
    assert queue == settings.TASK_QUEUES["webhooks"]
    assert queue not in {settings.TASK_QUEUES[role] for role in ("default", "media", "sweep")}


def test_the_sweep_sends_what_a_lost_task_left_behind(demo, receiver, settings, django_capture_on_commit_callbacks):
    """The outbox: deliveries written with the event survive a broker that lost their tasks."""
    endpoint_for(receiver)
    start_capture(demo.rooms["single"], demo.users["host"])  # on-commit never runs here: the task is "lost"
    delivery = Delivery.objects.get()
    assert receiver.received == [] and delivery.status == "pending"
    assert services.queue_due() == 0  # queued moments ago: its task may still come
    Delivery.objects.filter(pk=delivery.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_REQUEUE_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):  # the sweep's task runs (eagerly)
        assert services.queue_due() == 1
    assert [hit.type for hit in receiver.received] == ["recording.started"]
    assert services.queue_due() == 0  # delivered: nothing left to queue


def test_internal_targets_are_refused_unless_allowed(demo, receiver, settings):
    endpoint = endpoint_for(receiver)
    settings.WEBHOOK_ALLOW_INTERNAL_TARGETS = False
    delivery = services.send_test_event(endpoint=endpoint)
    tasks.deliver(delivery.pk)
    attempt = Attempt.objects.get(delivery=delivery)
    assert "internal address" in attempt.error and receiver.received == []
    with pytest.raises(ValidationError, match="private network"):
        services.create_endpoint(url="http://127.0.0.1:8080/hooks", room=None, created_by=None)
    with pytest.raises(ValidationError, match="private network"):
        services.create_endpoint(url="http://localhost/hooks", room=None, created_by=None)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hooks", "Only http:// and https:// URLs"),
        ("javascript:alert(1)", "Only http:// and https:// URLs"),
        ("https://", "not a valid URL"),
        ("https://exa mple.com/", "not a valid URL"),
        ("https://user:pw@example.com/", "no user name or password"),
        ("", "Enter the URL"),
    ],
)
def test_a_bad_url_gets_a_clear_error(db, url, message):
    with pytest.raises(ValidationError, match=message):
        services.create_endpoint(url=url, room=None, created_by=None)
    assert not Endpoint.objects.exists()


def test_the_admin_registers_tests_and_logs(demo, receiver, client, django_capture_on_commit_callbacks):
    client.force_login(demo.users["admin"])
    add = reverse("admin:webhooks_endpoint_add")
    refused = client.post(add, {"url": "gopher://example.com/", "description": "", "is_active": "on"})
    assert refused.status_code == 200 and "Only http:// and https:// URLs can receive webhooks." in refused.text
    created = client.post(
        add, {"url": receiver.url, "description": "LMS", "events": ["recording.completed"], "is_active": "on"}
    )
    assert created.status_code == 302, created.text[:2000]
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ["recording.completed"]
    assert endpoint.created_by == demo.users["admin"] and endpoint.room is None
    receiver.secrets.append(endpoint.secret)

    changelist = reverse("admin:webhooks_endpoint_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(changelist, {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    assert answer.status_code == 302
    (hit,) = receiver.received
    assert hit.type == "webhook.test" and hit.verified["data"]["by"] == "admin"

    page = client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200
    assert "webhook.test" in page.text and Event.objects.get().message_id in page.text
    assert endpoint.secret in page.text  # shown to staff, to give to the receiver

    client.post(changelist, {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == receiver.secrets[0] and endpoint.secret != endpoint.previous_secret
