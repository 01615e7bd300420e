#!/usr/bin/env python
"""Run a command with a Redis answering at REDIS_URL (the embedded one if none does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.redis_boot import ensure_redis  # noqa: E402


def main() -> int:
    url, proc = ensure_redis(os.environ.get("REDIS_URL"))
    env = dict(os.environ, REDIS_URL=url)
    try:
        return subprocess.call(sys.argv[1:], env=env)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
