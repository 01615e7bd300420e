"""The run command, started as a new user would: real Daphne, Celery workers and beat, embedded Redis.

It gets its own SQLite file and its own Redis (the bundled one, on a free port,
because nothing answers there), so it proves the path of a machine with only Python.
Its output is prefixed per process (web, worker, sweep, beat), which tells who ran a task.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.conftest import DEMO_PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.processes


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (several Daphnes take PORT, PORT+1, ...)."""
    while True:
        first = free_port()
        if all(port_is_free(first + i) for i in range(1, count)):
            return first


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def run_command(tmp: Path, *args: str, ports: int = 1) -> Iterator[dict]:
    """`scripts/run.py --port <free> *args` as a new user starts it, until the banner (or its exit)."""
    port = free_ports(ports)
    redis_port = free_port()
    while port <= redis_port < port + ports:
        redis_port = free_port()
    # As a new user starts it: nothing of this test run's own deployment is inherited.
    inherited = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEPLOYMENT_NAMESPACE", "TEST_RUN_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        VAR_DIR=str(tmp / "var"),
        SWEEP_INTERVAL_SECONDS="1",
        # The media test's recording never reaches finalize (a long task at shutdown).
        STOP_GRACE_SECONDS="3600",
    )
    log = open(tmp / "run.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "scripts/run.py", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 330  # a loaded machine starts seven Pythons slowly (run.py waits 300 s)
    while time.monotonic() < deadline:
        text = (tmp / "run.log").read_text()
        if "Meetings is running at" in text or proc.poll() is not None:
            break
        time.sleep(0.5)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "port": port, "log": tmp / "run.log", "proc": proc, "env": env}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with run_command(tmp_path_factory.mktemp("run")) as run:
        yield run


@contextmanager
def login(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/login/",
            data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": base + "/login/"},
        )
        assert response.status_code == 302, f"login as {username} failed"
        yield client


def test_banner_prints_url_and_logins(running) -> None:
    text = running["log"].read_text()
    assert f"Meetings is running at {running['url']}/" in text, text[-3000:]
    assert "embedded one runs" in text
    for username in ("host", "moderator", "participant", "outsider", "admin"):
        assert re.search(rf"^\s+{username}\s", text, re.M)


def test_sign_in_page_and_static(running) -> None:
    page = httpx.get(running["url"] + "/login/")
    assert page.status_code == 200 and "Sign in" in page.text
    assert httpx.get(running["url"] + "/static/css/app.css").status_code == 200


@pytest.mark.parametrize(
    "username,sees",
    [
        ("host", "Weekly planning"),
        ("moderator", "Product team live"),
        ("participant", "Weekly planning"),
        ("coeditor", "Weekly planning"),
        ("outsider", "You have no rooms yet"),
        ("admin", "Admin"),
    ],
)
def test_home_page_for_each_demo_user(running, username: str, sees: str) -> None:
    with login(running["url"], username) as client:
        page = client.get("/")
        assert page.status_code == 200 and sees in page.text


def test_admin_for_staff_only(running) -> None:
    with login(running["url"], "admin") as client:
        assert client.get("/admin/recordings/recording/").status_code == 200
    with login(running["url"], "host") as client:
        assert client.get("/admin/recordings/recording/").status_code == 302


def test_anonymous_websocket_refused_by_real_daphne(running) -> None:
    async def attempt() -> None:
        url = f"ws://127.0.0.1:{running['port']}/ws/rooms/1/"
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(url, origin=websockets.Origin(running["url"]), open_timeout=10):
                pass
        assert info.value.response.status_code == 403

    asyncio.run(attempt())


def test_beat_schedules_and_worker_runs_each_apps_sweep(running) -> None:
    deadline = time.monotonic() + 30
    patterns = [
        re.compile(rf"Task {re.escape(name)}\[[^\]]+\] succeeded")
        for name in ("meetings.tasks.sweep_sessions", "recordings.tasks.sweep_recordings")
    ]
    while time.monotonic() < deadline:
        log = running["log"].read_text()
        if all(pattern.search(log) for pattern in patterns):
            return
        time.sleep(0.5)
    pytest.fail("the worker never ran both sweeps that beat schedules:\n" + running["log"].read_text()[-3000:])


# --- The sweeps have a worker of their own (issue 10, item 6) --------------------------------------

# "worker | [2026-11-29 18:35:00,123: INFO/MainProcess] Task ... received"
LOG_LINE = re.compile(r"^(?P<who>\w+)\s+\| \[(?P<at>[\d-]+ [\d:]+,\d+): [^\]]*\] (?P<text>.*)$", re.M)


def task_events(log: str, name: str, what: str) -> list[tuple[str, datetime]]:
    """(process, time) of each "Task <name>[id] <what>" line of the run command's output."""
    found = []
    for match in LOG_LINE.finditer(log):
        if re.match(rf"Task {re.escape(name)}\[[^\]]+\] {what}", match["text"]):
            found.append((match["who"], datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f")))
    return found


def build_stopped_recording(colour: str, segments: int) -> None:
    """Run in the run command's environment (Django set up): the demo, and a stopped recording of the
    host's `segments` 5-second segments, whose windows the recordings sweep then queues for
    composition on the media queue (1080p, seconds each)."""
    from meetings.services import seed_demo
    from tests.conftest import DEMO_PASSWORD
    from tests.pipeline.conftest import Part, build_recording

    demo = seed_demo(password=DEMO_PASSWORD)
    build_recording(demo, [Part("host", colour, start=0.0, count=segments, length=5.0)], stop_at=segments * 5.0)


def queue_stopped_recording(env: dict[str, str], *, colour: str, segments: int, timeout: float) -> None:
    """`build_stopped_recording` in a process of its own, against the running product's database."""
    code = (
        f"import django; django.setup(); from {__name__} import build_stopped_recording as b; b({colour!r}, {segments})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
        timeout=timeout,  # real WebM segments made with PyAV: minutes on a loaded machine
    )


def test_sweeps_run_on_their_own_worker_while_media_work_fills_the_media_worker(running) -> None:
    # Two 10-second windows: one for each of the media worker's two processes.
    queue_stopped_recording(running["env"], colour="red", segments=4, timeout=120)
    compose = "recordings.tasks.compose_window"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        log = running["log"].read_text()
        if len(task_events(log, compose, "succeeded")) >= 2:
            break
        time.sleep(1)
    else:
        pytest.fail("the media worker never composed both windows:\n" + running["log"].read_text()[-3000:])
    received = task_events(log, compose, "received")
    done = task_events(log, compose, "succeeded")
    assert {who for who, _ in received + done} == {"worker"}, "composition runs on the media worker"
    # While both of the media worker's processes composed (prefetch 1: each starts what it receives)...
    busy_from, busy_to = max(at for _, at in received[:2]), min(at for _, at in done[:2])
    assert (busy_to - busy_from).total_seconds() >= 3, "the windows were too short to occupy the worker"
    for sweep in ("meetings.tasks.sweep_sessions", "recordings.tasks.sweep_recordings"):
        runs = task_events(log, sweep, "succeeded")
        during = [at for _, at in runs if busy_from <= at <= busy_to]
        # ...the sweeps kept their 1-second beat (beat discards a sweep not started within 2 intervals).
        assert len(during) >= (busy_to - busy_from).total_seconds() / 2, (sweep, busy_from, busy_to, during)
        assert {who for who, _ in runs} == {"sweep"}, f"{sweep} runs only on the sweep worker"
