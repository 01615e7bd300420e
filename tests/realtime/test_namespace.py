"""Two deployments on one Redis server (issue 10, item 1): every Redis name carries the deployment.

Redis pub/sub ignores the DB number, so two copies with REDIS_URL .../0 and .../1 heard each
other's room events. Each copy's names (channel layer, cache, Celery queues, routes and broker
keys, beat's schedule file) now start with its DEPLOYMENT_NAMESPACE, derived by default from its
database and Redis DB, so copies that keep their data apart differ without configuration.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD
from tests.live.conftest import ROOT, LiveServer, RoomSocket, start_daphne, stop_process
from tests.realtime.conftest import PrivateRedis, drain

STARTING = "Recording will start momentarily, please wait"
# What a test process set for itself must not leak into a copy started "as an operator would".
NOT_INHERITED = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEPLOYMENT_NAMESPACE", "TEST_RUN_DIR", "REDIS_URL"}


def base_env(**env: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | {"PYTHONUNBUFFERED": "1"} | env


def deployment_settings(**env: str) -> dict:
    """The Redis-facing settings of config.settings in this environment, read in a fresh process."""
    code = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({'ns': s.DEPLOYMENT_NAMESPACE, 'layer': s.CHANNEL_LAYERS['default']['CONFIG']['prefix'],"
        "'cache': s.CACHES['default']['KEY_PREFIX'], 'queues': [q.name for q in s.CELERY_TASK_QUEUES],"
        "'default_queue': s.CELERY_TASK_DEFAULT_QUEUE, 'routes': s.CELERY_TASK_ROUTES,"
        "'keyprefix': s.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix'],"
        "'beat': s.CELERY_BEAT_SCHEDULE_FILENAME}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base_env(DJANGO_SETTINGS_MODULE="config.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_redis_name_carries_the_namespace(tmp_path) -> None:
    s = deployment_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'a.sqlite3'}", REDIS_URL="redis://127.0.0.1:1/0")
    ns = s["ns"]
    assert s["layer"].startswith(ns) and s["cache"] == ns and s["keyprefix"].startswith(ns)
    assert sorted(s["queues"]) == sorted(f"{ns}.{role}" for role in ("default", "media", "sweep", "webhooks"))
    assert s["default_queue"] == f"{ns}.default"
    assert {route["queue"] for route in s["routes"].values()} == {f"{ns}.media", f"{ns}.sweep", f"{ns}.webhooks"}
    for sweep in ("meetings.tasks.sweep_sessions", "recordings.tasks.sweep_recordings"):
        assert s["routes"][sweep]["queue"] == f"{ns}.sweep"
    assert Path(s["beat"]).name.endswith(ns)


def test_copies_with_other_data_get_other_namespaces_unconfigured(tmp_path) -> None:
    db_a, db_b = f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"
    names = {
        deployment_settings(DATABASE_URL=db, REDIS_URL=redis)["ns"]
        for db in (
            db_a,
            db_b,
            "postgres://postgres@127.0.0.1:5432/liverec_a",
            "postgres://postgres@127.0.0.1/liverec_b",
        )
        for redis in ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1")
    }
    assert len(names) == 8
    # The same deployment (every process of one copy) derives the same name.
    assert (
        deployment_settings(DATABASE_URL=db_a, REDIS_URL="redis://127.0.0.1:6379/1")["ns"]
        == deployment_settings(DATABASE_URL=db_a, REDIS_URL="redis://127.0.0.1:6379/1")["ns"]
    )


def test_the_namespace_can_be_set_and_is_checked(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    assert deployment_settings(DATABASE_URL=db, DEPLOYMENT_NAMESPACE="acme-prod")["queues"][0].startswith("acme-prod.")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.CACHES"],
        cwd=ROOT,
        env=base_env(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=db, DEPLOYMENT_NAMESPACE="no spaces*"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "DEPLOYMENT_NAMESPACE" in result.stderr


# --- Two live copies on one Redis server -------------------------------------------------------


@dataclass
class Copy:
    server: LiveServer
    room_id: int
    cookies: dict[str, str]  # username -> session key


def prepare(env: dict[str, str]) -> subprocess.Popen[str]:
    """Migrate and seed the copy's own database, printing the single room's id."""
    code = (
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('migrate', '--noinput', verbosity=0); from meetings.services import seed_demo;"
        f"print(seed_demo(password={DEMO_PASSWORD!r}).rooms['single'].pk)"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def sign_in(base: str, username: str) -> str:
    with httpx.Client(base_url=base, timeout=10) as client:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/login/").text).group(1)
        response = client.post(
            "/login/",
            data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": base + "/login/"},
        )
        assert response.status_code == 302, f"login as {username} failed"
        return client.cookies["sessionid"]


@pytest.fixture(scope="module")
def two_copies(tmp_path_factory) -> Iterator[tuple[Copy, Copy]]:
    """Copies A and B: their own SQLite databases, Redis DBs 0 and 1 of one private server, no namespace set."""
    tmp = tmp_path_factory.mktemp("copies")
    redis = PrivateRedis(tmp)
    redis.start()
    envs = [
        base_env(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=f"sqlite:///{tmp / name / 'db.sqlite3'}",
            VAR_DIR=str(tmp / name),
            REDIS_URL=redis.url(db),
            CELERY_TASK_ALWAYS_EAGER="1",  # no worker here: tasks run where they are queued
        )
        for name, db in (("a", 0), ("b", 1))
    ]
    preparing = [prepare(env) for env in envs]
    room_ids = [int(p.communicate(timeout=120)[0].split()[-1]) for p in preparing]
    started = [start_daphne(env, tmp / f"daphne-{i}.log") for i, env in enumerate(envs)]
    try:
        copies = tuple(
            Copy(server=server, room_id=room_id, cookies={u: sign_in(server.url, u) for u in ("host", "participant")})
            for (_, server), room_id in zip(started, room_ids)
        )
        assert copies[0].room_id == copies[1].room_id  # the same room id in both: only the namespace parts them
        yield copies  # type: ignore[misc]
    finally:
        for proc, _ in started:
            stop_process(proc)
        redis.stop()


@pytest.mark.asyncio
async def test_a_notice_in_one_copy_never_reaches_the_other(two_copies) -> None:
    a, b = two_copies

    def socket(copy: Copy, username: str) -> RoomSocket:
        return RoomSocket(copy.server, copy.room_id, copy.cookies[username])

    async with (
        socket(a, "host") as a_host,
        socket(a, "participant") as a_guest,
        socket(b, "host") as b_host,
        socket(b, "participant") as b_guest,
    ):
        for ws in (a_host, a_guest, b_host, b_guest):
            await ws.expect_type("state")
        await b_host.send(type="start_recording", id="b")
        await b_guest.expect_notice(STARTING)
        await asyncio.gather(drain(a_guest, 1.5), drain(a_host, 1.5))  # long enough for a stray copy to arrive
        assert STARTING not in a_guest.texts() and STARTING not in a_host.texts()
        await a_host.send(type="start_recording", id="a")
        await a_guest.expect_notice(STARTING)  # copy A still hears its own
        await asyncio.gather(drain(a_guest, 1.0), drain(b_guest, 1.0))
        assert a_guest.texts().count(STARTING) == 1
        assert b_guest.texts().count(STARTING) == 1
