#!/usr/bin/env python
"""Run the whole product on one machine: Redis (if none answers), Daphne, a Celery worker and beat.

Migrates and seeds the demo first, prints the URL and demo logins, and stops
everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import cast

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
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
        procs.append(
            subprocess.Popen(
                [py, "-m", "config.daphne", "-b", args.host, "-p", str(args.port), "config.asgi:application"],
                cwd=ROOT,
                env=env,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    py,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "default,media",
                    "-c",
                    str(args.concurrency),
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"worker-{args.port}@%h",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    py,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(var_dir / f"celerybeat-schedule-{args.port}"),
                ],
                cwd=ROOT,
                env=env,
            )
        )
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
