"""Prometheus metrics at /metrics/: what an operator watches (docs/deploy.md), for staff or a bearer token.

Every figure is read when scraped, from the database and the broker, never counted inside one
process: any Daphne of the deployment gives the same answer, so one scrape target behind the proxy
is enough and no multi-process bookkeeping is needed (docs/decisions: the metrics decision).

Who may read them (the endpoint's whole policy, `may_read_metrics`): a signed-in active staff member,
or a request carrying `Authorization: Bearer <METRICS_TOKEN>` when that setting is not empty.
Anyone else gets 401 and nothing about the deployment.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from meetings import selectors as meeting_selectors
from recordings import selectors as recording_selectors

# Kombu's Redis transport keeps a queue's messages of priority p > 0 in a list of its own, "<queue>\x06\x16<p>".
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)


def may_read_metrics(request: HttpRequest) -> bool:
    """Staff, or the scraper's bearer token (compared in constant time); nobody when neither is there."""
    user = request.user
    if user.is_authenticated and user.is_active and user.is_staff:
        return True
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def queue_lengths(client: redis.Redis) -> tuple[dict[str, int], int]:
    """Tasks waiting in each of the deployment's Celery queues, and tasks taken but not yet acknowledged."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    waiting: dict[str, int] = {}
    with client.pipeline(transaction=False) as pipe:
        for queue in settings.TASK_QUEUES.values():
            for step in PRIORITY_STEPS:
                pipe.llen(f"{prefix}{queue}" if step == 0 else f"{prefix}{queue}{PRIORITY_SEPARATOR}{step}")
        pipe.hlen(f"{prefix}unacked")
        counts = pipe.execute()
    for i, role in enumerate(settings.TASK_QUEUES):
        waiting[role] = sum(int(n) for n in counts[i * len(PRIORITY_STEPS) : (i + 1) * len(PRIORITY_STEPS)])
    return waiting, int(counts[-1])


class ProductCollector(Collector):
    """The deployment's figures, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
        try:
            waiting, unacked = queue_lengths(client)
        finally:
            client.close()
        queues = GaugeMetricFamily(
            "liverec_celery_queue_length", "Tasks waiting in a Celery queue, by role", labels=["role", "queue"]
        )
        for role, count in waiting.items():
            queues.add_metric([role, settings.TASK_QUEUES[role]], count)
        yield queues
        yield GaugeMetricFamily(
            "liverec_celery_unacked_tasks", "Tasks a worker has taken and not finished (acks late)", value=unacked
        )

        states = GaugeMetricFamily("liverec_recordings", "Recordings by state", labels=["state"])
        for state, count in recording_selectors.counts_by_state().items():
            states.add_metric([state], count)
        yield states
        since = recording_selectors.oldest_processing_since()
        yield GaugeMetricFamily(
            "liverec_oldest_processing_recording_seconds",
            "Seconds since Stop of the recording longest in processing (0: none is processing)",
            value=max(0.0, time.time() - since.timestamp()) if since is not None else 0.0,
        )

        sessions, sockets = meeting_selectors.live_counts()
        yield GaugeMetricFamily("liverec_live_sessions", "Open live sessions (live or in preview)", value=sessions)
        yield GaugeMetricFamily("liverec_room_sockets", "Room sockets present (seen within the TTL)", value=sockets)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        response = HttpResponse(
            "Sign in as staff or send the metrics bearer token.\n", status=401, content_type="text/plain; charset=utf-8"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProductCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
