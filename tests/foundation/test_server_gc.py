"""config.daphne freezes what it made while starting (Django, the apps, Twisted) before it serves:
full garbage collections then skip those objects (docs/benchmarks.md, the fan-out's slow rounds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# Runs the server's entry as `python -m config.daphne --help` would, then reports the frozen count.
PROBE = """
import gc, runpy, sys
sys.argv = ["config.daphne", "--help"]
try:
    runpy.run_module("config.daphne", run_name="__main__")
except SystemExit:
    pass
print(gc.get_freeze_count())
"""


def test_the_server_freezes_its_startup_objects_before_serving() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    frozen = int(done.stdout.strip().splitlines()[-1])
    # Django and the apps alone are well over 50,000 objects; unfrozen, the count is 0.
    assert frozen > 50_000, done.stdout[-2000:]
