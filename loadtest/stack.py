"""Every process of the product on one machine, each startable, killable and restartable.

The fault suite (tests/faults), the scale-out test and bench/scaleout_bench.py run the product this
way: Daphne processes, Celery workers (media and sweep) and beat against one database and a
private Redis server (so restarting it empty touches nobody else), with moto's S3 server on loopback
as the object storage. Processes are started as `make run` starts them (config.daphne, the Celery
CLI), in their own session so that a kill takes a worker's pool children too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scripts.redis_boot import bundled_redis_server, redis_answers

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start a process with the stack's environment, plus `env` (a worker's own WORK_DIR, say)."""
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process's life)
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
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

    def start_daphne(self, name: str = "daphne", port: int | None = None) -> None:
        """A Daphne process; more than one (each its own `name` and `port`) serve one deployment."""
        port = port or self.http_port
        self._spawn(name, [sys.executable, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port),
                           "config.asgi:application"])  # fmt: skip
        wait_until(lambda: self._http_answers(f"http://127.0.0.1:{port}"), timeout=60, what=f"Daphne ({name})")

    def _http_answers(self, url: str | None = None) -> bool:
        try:
            return httpx.get((url or self.url) + "/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _start_celery(self, name: str, queues: list[str], concurrency: int, env: dict[str, str] | None = None) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        node = f"{name}-{self.http_port}@%h"
        args = [*celery, "-Q", ",".join(queues), "-c", str(concurrency), "--loglevel", "INFO", "-n", node]
        self._spawn(name, args, env)
        wait_until(lambda: self.log(name).count("ready.") >= self.starts.get(name, 0) + 1, timeout=60,
                   what=f"the {name} worker")  # fmt: skip
        self.starts[name] = self.starts.get(name, 0) + 1

    def start_worker(self, name: str = "worker", env: dict[str, str] | None = None, concurrency: int = 2) -> None:
        """The media worker (default and media queues), two processes, as `make run` starts it.

        Several media workers (each its own `name`, and `env`: its own WORK_DIR) act as several machines.
        """
        self._start_celery(name, [q for q in self.queues() if not q.endswith(".sweep")], concurrency, env)

    def start_sweeper(self) -> None:
        """The time-critical sweeps on their own worker, as `make run` starts it."""
        self._start_celery("sweep", [q for q in self.queues() if q.endswith(".sweep")], 1)

    def start_beat(self) -> None:
        self._spawn("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                             "--schedule", str(self.tmp / "beat-schedule")])  # fmt: skip

    def pause(self, name: str) -> None:
        """SIGSTOP the process and its children: alive but doing nothing (a machine that stalls)."""
        os.killpg(self.procs[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGCONT)

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
