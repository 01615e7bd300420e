"""/metrics/ scraped for real from a Daphne process: refused without staff or the token, and its figures move
with the product's state (a recording stopped and processing, a task waiting in the media queue)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from recordings.models import Recording
from tests.library.conftest import make_recording
from tests.live.conftest import LiveServer, live_env, session_cookie, start_daphne, stop_process

TOKEN = "scrape-me-4f1c9a"
# The tasks are sent to the broker on purpose (a queue to measure), whatever the test settings' eager mode.
pytestmark = pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[LiveServer]:
    proc, live = start_daphne(live_env(METRICS_TOKEN=TOKEN), tmp_path_factory.mktemp("metrics") / "daphne.log")
    yield live
    stop_process(proc)


@pytest.fixture
def media_queue() -> Iterator[str]:
    """The deployment's media queue, emptied before and after (nothing of this test run consumes it)."""
    key = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] + settings.TASK_QUEUES["media"]
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(key)
    yield key
    client.delete(key)
    client.close()


def scrape(server: LiveServer, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(server.url + "/metrics/", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def test_refused_without_staff_or_the_token(server, transactional_db, demo) -> None:
    assert httpx.get(server.url + "/metrics/").status_code == 401
    wrong = httpx.get(server.url + "/metrics/", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert "liverec" not in wrong.text
    host = session_cookie(Client(), demo.users["host"])  # signed in, but not staff
    assert httpx.get(server.url + "/metrics/", cookies={"sessionid": host}).status_code == 401
    staff = session_cookie(Client(), demo.users["admin"])
    assert demo.users["admin"].is_staff
    signed_in = httpx.get(server.url + "/metrics/", cookies={"sessionid": staff})
    assert signed_in.status_code == 200 and "liverec_recordings" in signed_in.text
    assert httpx.post(server.url + "/metrics/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code in {403, 405}


def test_figures_follow_recordings_and_queues(server, transactional_db, demo, media_queue) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(server, **auth)
    processing = ("liverec_recordings", (("state", "processing"),))
    media = ("liverec_celery_queue_length", (("queue", settings.TASK_QUEUES["media"]), ("role", "media")))
    oldest = ("liverec_oldest_processing_recording_seconds", ())
    assert before[processing] == 0 and before[media] == 0 and before[oldest] == 0
    assert ("liverec_recordings", (("state", "available"),)) in before  # every state is named, 0 or not

    recording = make_recording(demo.rooms["single"], demo.users["host"])
    Recording.objects.filter(pk=recording.pk).update(stopped_at=timezone.now() - timedelta(seconds=90))
    celery_app.send_task("recordings.tasks.compose_window", args=[recording.pk, 0], queue=settings.TASK_QUEUES["media"])
    celery_app.send_task("recordings.tasks.compose_window", args=[recording.pk, 1], queue=settings.TASK_QUEUES["media"])

    during = scrape(server, **auth)
    assert during[processing] == 1
    assert during[media] == 2
    assert 90 <= during[oldest] < 600

    Recording.objects.filter(pk=recording.pk).update(state=Recording.State.AVAILABLE)
    after = scrape(server, **auth)
    assert after[processing] == 0 and after[oldest] == 0
    assert (
        after[("liverec_recordings", (("state", "available"),))]
        == during[("liverec_recordings", (("state", "available"),))] + 1
    )
