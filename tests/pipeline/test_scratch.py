"""A media task's scratch directory (recordings.fragments.scratch): removed when the task ends, and
when its process was killed (no `finally` ran) by the next task on the machine, once it is old."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from recordings import fragments


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def aged(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_scratch_is_removed_after_the_task_and_orphans_are_swept(settings, tmp_path) -> None:
    settings.WORK_DIR = str(tmp_path)
    root = tmp_path / "scratch"
    root.mkdir()
    killed_old = root / f"window-{dead_pid()}-abc"  # a killed worker's, hours ago
    killed_new = root / f"window-{dead_pid()}-def"  # a killed worker's, just now: kept for a while
    alive_old = root / f"finalize-{os.getpid()}-ghi"  # a running process's long task
    foreign = root / "notes"  # not made by `scratch`
    for path in (killed_old, killed_new, alive_old, foreign):
        (path / "in").mkdir(parents=True)
    for path in (killed_old, alive_old, foreign):
        aged(path, fragments.ORPHAN_SCRATCH_SECONDS + 60)

    with fragments.scratch("publish") as where:
        assert where.is_dir() and where.parent == root and where.name.startswith(f"publish-{os.getpid()}-")
        (where / "x.mp4").write_bytes(b"x")
    assert not where.exists()
    assert not killed_old.exists()
    assert killed_new.exists() and alive_old.exists() and foreign.exists()
