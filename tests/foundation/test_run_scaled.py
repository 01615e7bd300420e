"""The run command with more of a kind (issue 14): `scripts/run.py --web 2 --workers 2 --concurrency 1`.

A real run, as test_run_processes.py starts it (SQLite, the bundled Redis): both Daphne processes
answer and share sign-ins, a room's notice sent through one reaches a socket on the other, and
both media workers compose windows of one recording. The sweep, hooks and beat stay one each.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from loadtest.nginx import NGINX, nginx
from tests.foundation.test_run_processes import login, queue_stopped_recording, run_command, task_events

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Iterator[dict]:
    args = ("--web", "2", "--workers", "2", "--concurrency", "1")
    with run_command(tmp_path_factory.mktemp("run-scaled"), *args, ports=2) as run:
        run["url2"] = f"http://127.0.0.1:{run['port'] + 1}"
        yield run


def test_banner_names_every_address_and_each_process_once(scaled) -> None:
    text = scaled["log"].read_text()
    assert f"Meetings is running at {scaled['url']}/" in text, text[-3000:]
    assert f"and at {scaled['url2']}/ (web2)" in text
    assert "2 media workers share the media queue" in text
    deadline = time.monotonic() + 180  # each process prints its first line when it is up (slowly, when loaded)
    expected = {"web1", "web2", "worker1", "worker2", "sweep", "hooks", "beat"}
    while not expected <= (names := set(re.findall(r"^(\w+)\s+\| ", text, re.M))) and time.monotonic() < deadline:
        time.sleep(1)
        text = scaled["log"].read_text()
    assert expected <= names, names
    assert not {"web", "worker", "web3", "worker3"} & names, names


def test_both_daphnes_answer_and_share_sign_ins(scaled) -> None:
    for base in (scaled["url"], scaled["url2"]):
        page = httpx.get(base + "/login/", timeout=10)
        assert page.status_code == 200 and "Sign in" in page.text
    with login(scaled["url"], "host") as client:
        # The browser's cookie is the host's, whatever the port: the other process knows the session.
        other = httpx.get(scaled["url2"] + "/", cookies={"sessionid": client.cookies["sessionid"]}, timeout=10)
        assert other.status_code == 200 and "Weekly planning" in other.text


def test_a_notice_sent_through_one_daphne_reaches_a_socket_on_the_other(scaled) -> None:
    with login(scaled["url"], "host") as host, login(scaled["url2"], "participant") as guest:
        page = host.get("/")
        room_id = int(re.search(r'href="/rooms/(\d+)/"[^>]*>\s*Weekly planning', page.text, re.S).group(1))
        host_cookie, guest_cookie = host.cookies["sessionid"], guest.cookies["sessionid"]

    async def meet() -> list[str]:  # the message types the guest received
        def connect(base: str, cookie: str) -> websockets.connect:
            return websockets.connect(
                base.replace("http", "ws", 1) + f"/ws/rooms/{room_id}/",
                origin=websockets.Origin(base),
                additional_headers={"Cookie": f"sessionid={cookie}"},
                open_timeout=30,
            )

        async with connect(scaled["url"], host_cookie) as host_ws, connect(scaled["url2"], guest_cookie) as guest_ws:
            for ws in (host_ws, guest_ws):  # joined: the state arrived
                while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("type") != "state":
                    pass
            # Ending the session (no recording left behind for the media test): the guest hears it.
            await host_ws.send(json.dumps({"type": "end_session", "id": 1}))
            heard: list[str] = []
            deadline = time.monotonic() + 30
            while "session_ended" not in heard and time.monotonic() < deadline:
                message = json.loads(await asyncio.wait_for(guest_ws.recv(), 30))
                heard.append(message.get("type", ""))
            return heard

    assert "session_ended" in asyncio.run(meet())


def test_both_media_workers_compose_windows_of_one_recording(scaled) -> None:
    queue_stopped_recording(scaled["env"], colour="blue", segments=8, timeout=600)  # a 40 s recording, 4 windows
    compose = "recordings.tasks.compose_window"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        done = task_events(scaled["log"].read_text(), compose, "succeeded")
        if len(done) >= 4:
            break
        time.sleep(1)
    else:
        pytest.fail("the media workers never composed all four windows:\n" + scaled["log"].read_text()[-3000:])
    # One process each (--concurrency 1), prefetch 1 and acks late: a busy worker takes no second window.
    assert {who for who, _ in done} == {"worker1", "worker2"}, done
    sweeps = task_events(scaled["log"].read_text(), "recordings.tasks.sweep_recordings", "succeeded")
    assert sweeps and {who for who, _ in sweeps} == {"sweep"}


STATIC_CSS = b"body { color: #123456; } /* collectstatic's copy, served by nginx */\n"


@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx-light)")
def test_one_address_in_front_of_both_through_the_documented_nginx(scaled, tmp_path) -> None:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "app.css").write_bytes(STATIC_CSS)
    with nginx(tmp_path, [scaled["port"], scaled["port"] + 1], tmp_path / "static") as port:
        front = f"http://127.0.0.1:{port}"
        with login(scaled["url"], "participant") as client:
            cookie = client.cookies["sessionid"]
        # Several requests: least_conn spreads them over both Daphnes, and each knows the session.
        for _ in range(4):
            page = httpx.get(front + "/", cookies={"sessionid": cookie}, timeout=60)
            assert page.status_code == 200 and "Weekly planning" in page.text
        served_by = {
            line.split()[1] for line in (tmp_path / "access.log").read_text().splitlines() if line.startswith("/ ")
        }
        assert served_by == {f"127.0.0.1:{scaled['port']}", f"127.0.0.1:{scaled['port'] + 1}"}, served_by
        room_id = int(re.search(r'href="/rooms/(\d+)/"[^>]*>\s*Weekly planning', page.text, re.S).group(1))
        css = httpx.get(front + "/static/css/app.css", timeout=60)  # by nginx itself, from the alias
        assert css.status_code == 200 and css.content == STATIC_CSS

        async def join_through_the_proxy() -> dict:
            async with websockets.connect(
                front.replace("http", "ws", 1) + f"/ws/rooms/{room_id}/",
                origin=websockets.Origin(front),
                additional_headers={"Cookie": f"sessionid={cookie}"},
                open_timeout=30,
            ) as ws:  # the upgrade passed through nginx
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if message.get("type") == "state":
                        return message

        assert asyncio.run(join_through_the_proxy())["role"] == "participant"
