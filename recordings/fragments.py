"""Where composed windows and the final MP4 wait between the tasks that make and use them.

A window composed on one worker and a finalize run on another meet here, so the store is shared:
a local directory on one machine (FRAGMENT_DIR, WORK_DIR by default, the layout from before the
store existed), S3 beyond (RECORDING_MEDIA_BUCKET). Keys are per recording:
`<uid>/fragments/<index>.mp4|.m4a` and `<uid>/final.mp4`. A task writes into `writable(key)`
(the store's own file when local, the task's scratch space when not) and then `put`s it; a
reader asks for a `local_copy` (the store's file when local, a download into its scratch when
not). Decision: docs/decisions/0025.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from django.conf import settings

from core import files
from recordings import objectstore

logger = logging.getLogger(__name__)


def fragment_key(uid: str, index: int, suffix: str) -> str:
    return f"{uid}/fragments/{index:06d}{suffix}"


def final_key(uid: str) -> str:
    return f"{uid}/final.mp4"


class FragmentStore(Protocol):
    def writable(self, key: str, scratch: Path) -> Path: ...
    def put(self, written: Path, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def local_copy(self, key: str, scratch: Path) -> Path: ...
    def location(self, key: str) -> str: ...
    def list_recording(self, uid: str) -> list[str]: ...
    def remove_recording(self, uid: str) -> int: ...


class LocalFragmentStore:
    """A directory every worker reaches (one machine's disk): tasks write straight into it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / objectstore.checked_relpath(key)

    def writable(self, key: str, scratch: Path) -> Path:
        # The compositor writes to a temp name beside this and renames: no half file is ever here.
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, written: Path, key: str) -> None:
        target = self.path(key)
        if written.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            with files.atomic_path(target) as tmp:
                shutil.copyfile(written, tmp)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def local_copy(self, key: str, scratch: Path) -> Path:
        return self.path(key)

    def location(self, key: str) -> str:
        return str(self.path(key))

    def list_recording(self, uid: str) -> list[str]:
        directory = self.path(uid)
        if not directory.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in directory.rglob("*") if p.is_file())

    def remove_recording(self, uid: str) -> int:
        count = len(self.list_recording(uid))
        shutil.rmtree(self.path(uid), ignore_errors=True)
        return count


class S3FragmentStore:
    """Fragments as objects: any worker composes a window, any other assembles the file."""

    def __init__(self, bucket: objectstore.Bucket) -> None:
        self.bucket = bucket

    def writable(self, key: str, scratch: Path) -> Path:
        path = scratch / "out" / objectstore.checked_relpath(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, written: Path, key: str) -> None:
        self.bucket.put_file(written, key)

    def exists(self, key: str) -> bool:
        return self.bucket.exists(key)

    def local_copy(self, key: str, scratch: Path) -> Path:
        dest = scratch / "in" / objectstore.checked_relpath(key)
        if not dest.exists() and not self.bucket.download(key, dest):
            raise FileNotFoundError(f"no fragment {key} in the fragment store")
        return dest

    def location(self, key: str) -> str:
        return self.bucket.location(key)

    def list_recording(self, uid: str) -> list[str]:
        return sorted(self.bucket.keys_under(uid))

    def remove_recording(self, uid: str) -> int:
        return self.bucket.delete_tree(uid)


def get_store() -> FragmentStore:
    """The store the settings name: S3 when RECORDING_MEDIA_BUCKET is set, else FRAGMENT_DIR (WORK_DIR)."""
    bucket = objectstore.configured(settings.RECORDING_FRAGMENT_PREFIX)
    if bucket is not None:
        return S3FragmentStore(bucket)
    return LocalFragmentStore(settings.FRAGMENT_DIR or settings.WORK_DIR)


# A scratch directory whose process is gone (killed: no `finally` ran) is removed by the next task
# on the machine once it is this old: the age keeps it safe where process ids are not all visible
# (containers sharing a volume), as no task runs anywhere near this long.
ORPHAN_SCRATCH_SECONDS = 6 * 60 * 60


@contextmanager
def scratch(what: str) -> Iterator[Path]:
    """A task's own scratch directory under WORK_DIR, removed when the task ends (however it ends,
    short of the process being killed: those are swept here later, `sweep_orphaned_scratch`)."""
    root = Path(settings.WORK_DIR) / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    sweep_orphaned_scratch(root)
    path = Path(tempfile.mkdtemp(prefix=f"{what}-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_orphaned_scratch(root: Path, *, older_than: float = ORPHAN_SCRATCH_SECONDS) -> list[Path]:
    """Remove scratch directories of processes that no longer run, older than `older_than` seconds."""
    removed: list[Path] = []
    now = time.time()
    for path in root.iterdir():
        parts = path.name.split("-")
        if len(parts) < 3 or not parts[1].isdigit():
            continue  # not named by `scratch` (or from before the process id was in the name)
        try:
            if now - path.stat().st_mtime < older_than or _process_alive(int(parts[1])):
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# --- The verified final MP4, named by Recording.output_path (a local path or an s3:// location) ---


def output_exists(output_path: str) -> bool:
    """Whether the final MP4 a recording names is still there (it goes when the media is removed)."""
    if not output_path:
        return False
    parsed = objectstore.parse_location(output_path)
    if parsed is None:
        return os.path.isfile(output_path)
    bucket, key = parsed
    try:
        objectstore.client().head_object(Bucket=bucket, Key=key)
    except objectstore.object_errors() as exc:
        if objectstore.is_not_found(exc):
            return False
        raise
    return True


@contextmanager
def local_output(output_path: str) -> Iterator[str]:
    """The final MP4 as a file this process can read: the path itself, or a download into scratch."""
    parsed = objectstore.parse_location(output_path) if output_path else None
    if parsed is None:
        yield output_path
        return
    bucket, key = parsed
    with scratch("publish") as where:
        dest = where / "final.mp4"
        try:
            objectstore.client().download_file(bucket, key, str(dest))
        except objectstore.object_errors() as exc:
            if not objectstore.is_not_found(exc):
                raise
            dest = where / "missing.mp4"  # the caller finds no file and says so
        yield str(dest)


def worker_name() -> str:
    """Who is composing, for Fragment.composed_by: the Celery worker's node name, else host and pid."""
    try:
        from celery import current_task

        node = getattr(getattr(current_task, "request", None), "hostname", None)
    except ImportError:  # pragma: no cover
        node = None
    return str(node) if node else f"{socket.gethostname()}:{os.getpid()}"
