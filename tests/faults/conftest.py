"""The fault suite's stack: every process of the product, on a private Redis, faults caused for real.

A `Stack` (loadtest/stack.py, shared with the benchmarks) runs Daphne, the Celery workers and beat
against the test database and a Redis server of its own (so restarting it empty touches nobody
else). A simulated meeting (loadtest.simulation: real websockets and real segment uploads of real WebM) is recorded
through it; faults are caused by signals and restarts, as an operator would meet them: a
worker killed with SIGKILL, Redis restarted without its data, Daphne killed and started
again, beat stopped for a minute.

Run on its own with `pytest -m faults tests/faults`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from loadtest import simulation
from loadtest.simulation import SimParticipant, TrackMedia
from loadtest.stack import LocalS3, Stack, wait_until  # noqa: F401 (the fault tests import them from here)
from meetings.models import Room
from recordings.models import Recording
from tests.conftest import free_port
from tests.live.conftest import database_url

SEGMENT_SECONDS = 2.0
# Timings as an operator would shorten them for a small test meeting; the claim and sweep
# intervals are the product's defaults, since recovery time is what the suite measures.
STACK_TIMINGS = {
    "SEGMENT_SECONDS": str(SEGMENT_SECONDS),
    "COMPOSE_WINDOW_SECONDS": "4",
    "COMPOSE_LATE_MARGIN_SECONDS": "1",
    "STOP_GRACE_SECONDS": "3",
    "COMPOSE_PRESET": "ultrafast",
    "HEARTBEAT_SECONDS": "2",
    "PRESENCE_TTL_SECONDS": "20",
    # Publishing retries soon while storage is down, so the suite sees it come back.
    "PUBLISH_RETRY_BASE_SECONDS": "2",
    "PUBLISH_RETRY_MAX_SECONDS": "4",
    "PUBLISH_MAX_ATTEMPTS": "30",
    # ...and each storage operation inside a try pauses at most 2 s (the default cap is 30 s, which
    # an in-flight try could still be sleeping when storage returns: seen as 36 s instead of <= 35).
    "MEDIA_PUBLISH_BACKOFF_MAX_SECONDS": "2",
}


def stack_env(redis_port: int, s3: LocalS3, **extra: str) -> dict[str, str]:
    """The environment of every process of a stack: the test database, a private Redis, S3 media storage."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="config.settings_test",
        TEST_RUN_DIR=str(settings.TEST_RUN_DIR),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONUNBUFFERED="1",
        **STACK_TIMINGS,
        **s3.env(),
        **extra,
    )
    return env


# Module scope, not session: the stack's beat, sweep and workers work on the shared test database,
# so left running they would schedule and compose windows of later tests' recordings (seen as a CI
# failure of tests/pipeline, whose eager composition raced the stack's real worker).
@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("faults")
    redis_port = free_port()
    s3 = LocalS3()
    s3.start()
    s3.create_bucket()
    rig = Stack(tmp=tmp, env=stack_env(redis_port, s3), redis_port=redis_port, http_port=free_port(), s3=s3)
    rig.start_all()
    try:
        yield rig
    finally:
        rig.stop_all()
        s3.stop()


@dataclass
class Meeting:
    """A recorded meeting run by simulated participants in a thread, with its outcome."""

    thread: threading.Thread
    outcome: list[simulation.MeetingOutcome]
    errors: list[BaseException]
    started: float

    def join(self, timeout: float) -> simulation.MeetingOutcome:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the simulated meeting did not end"
        if self.errors:
            raise self.errors[0]
        return self.outcome[0]


def start_meeting(
    stack: Stack, room: Room, *, participants: int = 2, duration: float = 20.0, urls: list[str] | None = None
) -> Meeting:
    """Join `participants` (one of them the host who records) and record for `duration` seconds.

    With `urls` (several Daphne processes), participant i talks to urls[i % len(urls)].
    """
    urls = urls or [stack.url]
    people = simulation.ensure_people(room=room, count=participants - 1, host=True)
    everyone = [people.host, *people.participants]
    sessions = simulation.login_sessions(everyone)
    cameras = [simulation.camera_spec(i, width=320, height=180, seconds=SEGMENT_SECONDS) for i in range(len(everyone))]
    connections.close_all()  # media generation forks; children must not share our connection
    media = simulation.prepare_media(cameras, cache_dir=Path(settings.VAR_DIR) / "sim")
    sims = [
        SimParticipant(
            name=user.username,
            session_key=sessions[user.pk],
            room_id=room.pk,
            base_url=urls[i % len(urls)],
            tracks=[TrackMedia(kind="camera", segment=media[cameras[i]])],
            segment_seconds=SEGMENT_SECONDS,
        )  # fmt: skip
        for i, user in enumerate(everyone)
    ]
    outcome: list[simulation.MeetingOutcome] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(
                asyncio.run(simulation.run_meeting(participants=sims[1:], host=sims[0], duration=duration, record=True))
            )
        except BaseException as exc:  # handed to the test through join()
            errors.append(exc)

    thread = threading.Thread(target=run, name="meeting", daemon=True)
    thread.start()
    return Meeting(thread=thread, outcome=outcome, errors=errors, started=time.monotonic())


def recording_of(room: Room) -> Recording | None:
    return Recording.objects.filter(room=room).order_by("-created_at").first()


def wait_for_state(room: Room, states: set[str], *, timeout: float) -> Recording:
    found: list[Recording] = []

    def check() -> bool:
        recording = recording_of(room)
        if recording is not None and recording.state in states:
            found.append(recording)
            return True
        return False

    wait_until(check, timeout=timeout, what=f"a recording in {sorted(states)}", every=0.25)
    return found[-1]
