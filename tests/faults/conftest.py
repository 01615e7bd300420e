"""The fault suite's stack: every process of the product, on a private Redis, faults caused for real.

A `Stack` runs Daphne, the Celery workers and beat against the test database and a Redis
server of its own (so restarting it empty touches nobody else). A simulated meeting
(loadtest.simulation: real websockets and real segment uploads of real WebM) is recorded
through it; faults are caused by signals and restarts, as an operator would meet them: a
worker killed with SIGKILL, Redis restarted without its data, Daphne killed and started
again, beat stopped for a minute.

Run on its own with `pytest -m faults tests/faults`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connections

from loadtest import simulation
from loadtest.simulation import SimParticipant, TrackMedia
from meetings.models import Room
from recordings.models import Recording
from scripts.redis_boot import bundled_redis_server, redis_answers
from tests.conftest import free_port
from tests.live.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
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


class LocalS3:
    """moto's S3 server on a fixed loopback port, so it can be stopped (storage down) and started again.

    Its buckets and objects live in this process's memory, so they survive a stop and start.
    """

    BUCKET = "liverec-faults"

    def __init__(self) -> None:
        self.port = free_port()
        self.server: object | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self.server = server
        wait_until(self.answers, timeout=20, what="the local S3 server")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()  # type: ignore[attr-defined]
            self.server = None

    def answers(self) -> bool:
        try:
            httpx.get(self.endpoint, timeout=1)
            return True
        except httpx.HTTPError:
            return False

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )

    def create_bucket(self) -> None:
        self.client().create_bucket(Bucket=self.BUCKET)

    def env(self) -> dict[str, str]:
        return {
            "AWS_STORAGE_BUCKET_NAME": self.BUCKET,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


@dataclass
class Stack:
    """Every process of the product on one machine, each one startable, killable and restartable."""

    tmp: Path
    env: dict[str, str]
    redis_port: int
    http_port: int
    s3: LocalS3
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis: subprocess.Popen[bytes] | None = None
    starts: dict[str, int] = field(default_factory=dict)  # how often each worker was started (its log grows)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process's life)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- Redis ------------------------------------------------------------------------------

    def start_redis(self) -> None:
        workdir = self.tmp / "redis"
        workdir.mkdir(exist_ok=True)
        self.redis = subprocess.Popen(
            [bundled_redis_server(), "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: redis_answers(self.env["REDIS_URL"]), timeout=20, what="private Redis")

    def restart_redis_empty(self) -> None:
        """Redis dies (SIGKILL, no persistence) and comes back empty: every queued task is gone."""
        assert self.redis is not None
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait()
        self.start_redis()

    # --- Product processes --------------------------------------------------------------------

    def queues(self) -> list[str]:
        """The Celery queues this deployment uses, as its own settings name them."""
        code = (
            "import django; django.setup(); from config.celery import app; "
            "print(*[q.name for q in app.conf.task_queues])"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return out.stdout.split()

    def start_daphne(self) -> None:
        self._spawn("daphne", [sys.executable, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(self.http_port),
                               "config.asgi:application"])  # fmt: skip
        wait_until(self._http_answers, timeout=60, what="Daphne")

    def _http_answers(self) -> bool:
        try:
            return httpx.get(self.url + "/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _start_celery(self, name: str, queues: list[str], concurrency: int) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        node = f"{name}-{self.http_port}@%h"
        self._spawn(name, [*celery, "-Q", ",".join(queues), "-c", str(concurrency), "--loglevel", "INFO", "-n", node])
        wait_until(lambda: self.log(name).count("ready.") >= self.starts.get(name, 0) + 1, timeout=60,
                   what=f"the {name} worker")  # fmt: skip
        self.starts[name] = self.starts.get(name, 0) + 1

    def start_worker(self) -> None:
        """The media worker (default and media queues), two processes, as `make run` starts it."""
        self._start_celery("worker", [q for q in self.queues() if not q.endswith(".sweep")], 2)

    def start_sweeper(self) -> None:
        """The time-critical sweeps on their own worker, as `make run` starts it."""
        self._start_celery("sweep", [q for q in self.queues() if q.endswith(".sweep")], 1)

    def start_beat(self) -> None:
        self._spawn("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                             "--schedule", str(self.tmp / "beat-schedule")])  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started (a worker's pool children too)."""
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def start_all(self) -> None:
        self.start_redis()
        self.start_daphne()
        self.start_worker()
        self.start_sweeper()
        self.start_beat()

    def ensure_running(self) -> None:
        """After a test that killed something: everything up again for the next one."""
        if self.s3.server is None:
            self.s3.start()
        if self.redis is None or self.redis.poll() is not None:
            self.start_redis()
        for name, start in (
            ("daphne", self.start_daphne),
            ("worker", self.start_worker),
            ("sweep", self.start_sweeper),
            ("beat", self.start_beat),
        ):
            if name not in self.procs or self.procs[name].poll() is not None:
                self.procs.pop(name, None)
                start()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait()


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"{what} not there after {timeout:.0f} s")


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
    )
    rig = Stack(tmp=tmp, env=env, redis_port=redis_port, http_port=free_port(), s3=s3)
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


def start_meeting(stack: Stack, room: Room, *, participants: int = 2, duration: float = 20.0) -> Meeting:
    """Join `participants` (one of them the host who records) and record for `duration` seconds."""
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
            base_url=stack.url,
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
