#!/usr/bin/env python
"""Run the whole product on one machine: Redis (if none answers), Daphne, three Celery workers and beat.

Migrates and seeds the demo first, prints the URL and demo logins, and stops
everything on Ctrl-C. Each process's output is prefixed with its name (web, worker, sweep, hooks, beat).
The Celery queues are the deployment's own (settings.TASK_QUEUES, DEPLOYMENT_NAMESPACE): `worker`
takes the default and media queues, `sweep` (one process) only the sweeps, so composition never
delays a deadline (docs/decisions/0013), and `hooks` only outgoing webhooks (decision 0020).

`--web N` starts N Daphne processes on the consecutive ports PORT .. PORT+N-1 (named web1 .. webN)
and `--workers M` M media workers (worker1 .. workerM); the sweep, hooks and beat processes stay one
each. Every Daphne serves the whole product (sessions live in the database, room events go through
Redis), so any of the printed addresses works; one address in front of them all is a reverse proxy's
job (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
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


def wait_for_http(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 300) -> None:
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


def relay(name: str, stream: IO[bytes], width: int = 6) -> None:
    """Copy a child's output line by line, prefixed with its name (lines never interleave)."""
    prefix = f"{name:<{width}} | ".encode()
    for line in iter(stream.readline, b""):
        with _output_lock:
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.buffer.flush()


def task_queues(py: str, env: dict[str, str]) -> dict[str, str]:
    """The Celery queue names by role, as the settings name them for this environment."""
    code = "import json; from django.conf import settings; print(json.dumps(settings.TASK_QUEUES))"
    out = subprocess.run([py, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return cast("dict[str, str]", json.loads(out))


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def positive(text: str) -> int:
    """A count of processes: a whole number of at least 1 (argparse turns the ValueError into a usage error)."""
    value = int(text)
    if value < 1:
        raise ValueError(f"{text} is not a positive count")
    return value


def numbered(kind: str, index: int, count: int) -> str:
    """A process's name in the output: `web` alone, or web1, web2, ... when there are several."""
    return kind if count == 1 else f"{kind}{index + 1}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--concurrency",
        type=positive,
        default=os.environ.get("WORKER_CONCURRENCY", "2"),
        help="processes of each default and media worker (env WORKER_CONCURRENCY; default 2)",
    )
    parser.add_argument(
        "--web",
        type=positive,
        default=os.environ.get("WEB_PROCESSES", "1"),  # argparse applies `type` to a str default
        help="Daphne processes, on ports PORT, PORT+1, ... (env WEB_PROCESSES; default 1)",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=os.environ.get("MEDIA_WORKERS", "1"),
        help="media workers (default and media queues), each of --concurrency processes (env MEDIA_WORKERS; default 1)",
    )
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

    last_names = (numbered("web", args.web - 1, args.web), numbered("worker", args.workers - 1, args.workers))
    width = max(6, *map(len, last_names))

    def spawn(name: str, command: list[str]) -> None:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        threading.Thread(target=relay, args=(name, proc.stdout, width), daemon=True).start()
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
        ports = [args.port + i for i in range(args.web)]
        taken = [port for port in ports if not port_is_free(args.host, port)]
        if taken:
            print(f"Port {taken[0]} is in use; the web processes need {ports[0]}..{ports[-1]}: choose --port.")
            return 2
        for i, port in enumerate(ports):
            name = numbered("web", i, args.web)
            spawn(name, [py, "-m", "config.daphne", "-b", args.host, "-p", str(port), "config.asgi:application"])
        celery = [py, "-m", "celery", "-A", "config"]
        # Composition and publishing (minutes of CPU each) and the small default tasks. Several media
        # workers share the queue; each takes one task per process at a time (prefetch 1, acks late).
        for i in range(args.workers):
            name = numbered("worker", i, args.workers)
            spawn(
                name,
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
                    f"{name}-{args.port}@%h",
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
        urls = [f"http://{args.host}:{port}/" for port in ports]
        for url in urls:
            wait_for_http(url + "login/", procs)
        print("\n" + "=" * 64, flush=True)
        print(f"  Meetings is running at {urls[0]}", flush=True)
        for i, url in enumerate(urls[1:], start=2):
            print(f"  and at {url} (web{i})", flush=True)
        if len(urls) > 1:
            # A sign-in on one address holds on all of them: a cookie is shared across the ports of a host.
            print("  Each address is a Daphne of its own; one address in front of them all: docs/deploy.md.")
        if args.workers > 1:
            print(f"  {args.workers} media workers share the media queue.")
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
