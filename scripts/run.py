#!/usr/bin/env python
"""Run the whole product on one machine: Redis (if none answers), Daphne, three Celery workers and beat.

Migrates and seeds the demo first, prints the URL and demo logins, and stops
everything on Ctrl-C. Each process's output is prefixed with its name (web, worker, sweep, hooks, beat).
The Celery queues are the deployment's own (settings.TASK_QUEUES, DEPLOYMENT_NAMESPACE): `worker`
takes the default and media queues, `sweep` (one process) only the sweeps, so composition never
delays a deadline (docs/decisions/0013), and `hooks` only outgoing webhooks (decision 0020).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.redis_boot import ensure_redis  # noqa: E402


def wait_for_http(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                args = cast("list[str]", proc.args)  # every process here is started from a list of str
                raise RuntimeError(f"{args[2:5]} exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


_output_lock = threading.Lock()


def relay(name: str, stream: IO[bytes]) -> None:
    """Copy a child's output line by line, prefixed with its name (lines never interleave)."""
    prefix = f"{name:<6} | ".encode()
    for line in iter(stream.readline, b""):
        with _output_lock:
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.buffer.flush()


def task_queues(py: str, env: dict[str, str]) -> dict[str, str]:
    """The Celery queue names by role, as the settings name them for this environment."""
    code = "import json; from django.conf import settings; print(json.dumps(settings.TASK_QUEUES))"
    out = subprocess.run([py, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return cast("dict[str, str]", json.loads(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--concurrency", type=int, default=2, help="processes of the default and media worker")
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"
    redis_url, redis_proc = ensure_redis(env.get("REDIS_URL"))
    env["REDIS_URL"] = redis_url
    if redis_proc is not None:
        print(f"No Redis answered, so an embedded one runs at {redis_url}", flush=True)

    py = sys.executable
    var_dir = Path(env.get("VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, command: list[str]) -> None:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        threading.Thread(target=relay, args=(name, proc.stdout), daemon=True).start()
        procs.append(proc)

    def stop_all(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if redis_proc is not None and redis_proc.poll() is None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)

    try:
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        # seed_demo is idempotent and prints the logins, which the banner repeats once all is up.
        logins = subprocess.run(
            [py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        queues = task_queues(py, env)
        spawn("web", [py, "-m", "config.daphne", "-b", args.host, "-p", str(args.port), "config.asgi:application"])
        celery = [py, "-m", "celery", "-A", "config"]
        # Composition and publishing (minutes of CPU each) and the small default tasks.
        spawn(
            "worker",
            [
                *celery,
                "worker",
                "-Q",
                f"{queues['default']},{queues['media']}",
                "-c",
                str(args.concurrency),
                "--loglevel",
                "INFO",
                "-n",
                f"worker-{args.port}@%h",
            ],
        )
        # The sweeps alone, one process: a deadline never waits behind composition.
        spawn(
            "sweep",
            [*celery, "worker", "-Q", queues["sweep"], "-c", "1", "--loglevel", "INFO", "-n", f"sweep-{args.port}@%h"],
        )
        # Outgoing webhooks: waiting on other systems' answers (up to WEBHOOK_TIMEOUT_SECONDS each), so
        # threads, on a queue of their own: a slow receiver never delays a recording (decision 0020).
        spawn(
            "hooks",
            [*celery, "worker", "-Q", queues["webhooks"], "-P", "threads", "-c", "4", "--loglevel", "INFO",
             "-n", f"hooks-{args.port}@%h"],
        )  # fmt: skip
        # Its schedule file is the deployment's own (settings.CELERY_BEAT_SCHEDULE_FILENAME, under VAR_DIR).
        spawn("beat", [*celery, "beat", "--loglevel", "INFO"])
        url = f"http://{args.host}:{args.port}/"
        wait_for_http(url + "login/", procs)
        print("\n" + "=" * 64, flush=True)
        print(f"  Meetings is running at {url}", flush=True)
        for line in logins.splitlines()[1:]:
            print("  " + line)
        print("  Press Ctrl-C to stop everything.")
        print("=" * 64 + "\n", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        print("A process stopped; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
