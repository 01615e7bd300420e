"""What the load benchmarks share: a throwaway PostgreSQL database, Daphne processes, figures.

The benchmarks run one Daphne process (as production runs one per core behind a balancer)
against PostgreSQL and the machine's Redis, and drive it from this process with asyncio.
"""

from __future__ import annotations

import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def ensure_database(name: str) -> str:
    """Create the benchmark database if it is missing and migrate it; returns its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        check=True,
        env=dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings"),
    )
    return url


def setup_django(database_url: str, **env: str) -> None:
    """This process uses the same database and settings as the server it measures."""
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings", REDIS_URL=REDIS_URL, **env)
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would bury the figures


def raise_open_files(wanted: int = 65536) -> int:
    """A thousand sockets need more descriptors than a shell's default soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production-like: DEBUG off (no query log, no static handler), quiet logs; `extra` may override any of it."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL=REDIS_URL,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Daphne:
    """One Daphne process serving `app`, its output in a log file."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            # The child inherits our raised descriptor limit: it too holds a socket per client.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "config.daphne", "-b", "127.0.0.1", "-p", str(self.port), app],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Daphne exited:\n{self.log.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"Daphne did not answer within {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far (to see where a phase's time went)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def profile(self, out: Path) -> subprocess.Popen[bytes]:
        """Sample with py-spy (collapsed stacks) until `stop_profile`: only the thread holding the GIL, i.e. where
        the one Python core of the process goes."""
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(self.proc.pid),
                "--format",
                "raw",
                "--rate",
                os.environ.get("BENCH_PROFILE_RATE", "100"),
                "--gil",
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def own_cpu_seconds() -> float:
    """This process's CPU: the load client competes with the server for the same cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stop_profile(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on interrupt
    proc.wait(timeout=60)


def machine_note() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average at start {load[0]:.1f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: readable in a terminal and pasteable into docs/benchmarks.md."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
