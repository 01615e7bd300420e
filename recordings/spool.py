"""Where segments wait, durably, until they are composed.

One small interface so that moving from a local directory to a shared volume
(or object storage) is a setting: workers on other machines must reach it. `LocalSpool` is a
directory; `S3Spool` (RECORDING_MEDIA_BUCKET set) keeps each segment as an object, PUT before
the upload is acknowledged, and workers copy the segments a task needs into its scratch space
(docs/decisions/0025).

A spool whose disk is full refuses uploads (ingest answers 507) and says so to staff: the
admin index shows `shortage()` while free space is below SPOOL_LOW_SPACE_BYTES or an upload
was refused for lack of space recently (docs/decisions/0011).
"""

from __future__ import annotations

import errno
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core import files
from recordings import objectstore

logger = logging.getLogger(__name__)

# Out of space, or out of this user's quota: either way no byte more can be written.
OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
# The cache key (under the cache's KEY_PREFIX) that remembers the last refusal for lack of space.
REFUSED_KEY = "recordings:spool:refused-for-space"


def is_out_of_space(exc: OSError) -> bool:
    return exc.errno in OUT_OF_SPACE


def discard_temp(temp: BinaryIO) -> None:
    """Close and remove a temp file, even when closing fails.

    On a full disk, closing flushes the last buffered bytes and fails with ENOSPC; the file
    must still go, or every refused upload would leave a piece behind on the full disk.
    """
    try:
        temp.close()
    except OSError:
        pass
    files.discard_path(temp.name)


class LocalSpool:
    """A directory on a disk every worker mounts (a local one on a single machine)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, relpath: str) -> Path:
        full = (self.root / relpath).resolve()
        if self.root.resolve() not in full.parents:
            raise ValueError(f"spool path escapes the spool: {relpath!r}")
        return full

    def temp_file(self, relpath: str) -> BinaryIO:
        """A temp file beside the final place, so the rename in `commit` is atomic."""
        target = self.path(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Readable by this user only, as the tempfile module made it before.
        return files.open_temp(target, prefix=".incoming-", permissions=0o600)

    def commit(self, temp: BinaryIO, relpath: str) -> None:
        """Make the bytes durable (file and directory entry) before anyone is told they are stored."""
        files.commit_file(temp, self.path(relpath), fsync_dir=True)

    def discard(self, temp: BinaryIO) -> None:
        discard_temp(temp)

    def remove(self, relpath: str) -> None:
        """Remove a stored file that no row names (written for a request refused after all)."""
        files.discard_path(self.path(relpath))

    def local_copy(self, relpath: str, scratch: Path) -> Path:
        """The segment as a file this process can open: here, the spool's own file (no copy)."""
        return self.path(relpath)

    def list_recording(self, uid: str) -> list[str]:
        """Relative paths of the files stored for one recording (its directory)."""
        directory = self.path(uid)
        if not directory.is_dir():
            return []
        return sorted(str(p.relative_to(self.root.resolve())) for p in directory.rglob("*") if p.is_file())

    def remove_recording(self, uid: str) -> int:
        """Remove a published recording's segments; returns how many files there were."""
        count = len(self.list_recording(uid))
        shutil.rmtree(self.path(uid), ignore_errors=True)
        return count


class SpoolUnavailable(Exception):
    """The object storage did not take a segment (down, refusing): the upload is answered 503, not kept."""


class S3Spool:
    """Segments as objects in S3, so that workers on other machines read them with no shared disk.

    The body is staged in a local temp file under `root` (SPOOL_DIR) while it arrives, as for the
    local spool, then PUT as one object: the upload is acknowledged only after S3 answered the PUT.
    A full staging disk is still a 507; S3 itself has no "full", but a failed PUT is a 503.
    """

    def __init__(self, root: Path, bucket: objectstore.Bucket) -> None:
        self.root = Path(root)
        self.bucket = bucket

    def temp_file(self, relpath: str) -> BinaryIO:
        objectstore.checked_relpath(relpath)
        self.root.mkdir(parents=True, exist_ok=True)
        return files.open_temp(self.root / "incoming", prefix=".incoming-", permissions=0o600)

    def commit(self, temp: BinaryIO, relpath: str) -> None:
        try:
            temp.close()  # flushed; the staging file is write-only, so it is read back through its name
            try:
                with open(temp.name, "rb") as body:
                    self.bucket.put_fileobj(body, relpath)
            except objectstore.object_errors() as exc:
                logger.error("segment %s not stored in S3: %s", relpath, exc)
                raise SpoolUnavailable(str(exc)) from exc
        finally:
            discard_temp(temp)

    def discard(self, temp: BinaryIO) -> None:
        discard_temp(temp)

    def remove(self, relpath: str) -> None:
        self.bucket.delete(relpath)

    def local_copy(self, relpath: str, scratch: Path) -> Path:
        """Download the segment into the task's scratch directory; a missing object stays missing.

        The compositor then reports that segment's seconds as lost, as for a lost local file.
        """
        dest = scratch / "segments" / objectstore.checked_relpath(relpath)
        if not dest.exists():
            self.bucket.download(relpath, dest)
        return dest

    def list_recording(self, uid: str) -> list[str]:
        return sorted(self.bucket.keys_under(uid))

    def remove_recording(self, uid: str) -> int:
        return self.bucket.delete_tree(uid)


class Spool(Protocol):
    """What ingest and the pipeline need of a spool, whichever kind it is."""

    root: Path

    def temp_file(self, relpath: str) -> BinaryIO: ...
    def commit(self, temp: BinaryIO, relpath: str) -> None: ...
    def discard(self, temp: BinaryIO) -> None: ...
    def remove(self, relpath: str) -> None: ...
    def local_copy(self, relpath: str, scratch: Path) -> Path: ...
    def list_recording(self, uid: str) -> list[str]: ...
    def remove_recording(self, uid: str) -> int: ...


def get_spool() -> Spool:
    """The spool the settings name: S3 when RECORDING_MEDIA_BUCKET is set, else SPOOL_DIR."""
    bucket = objectstore.configured(settings.RECORDING_SPOOL_PREFIX)
    if bucket is not None:
        return S3Spool(settings.SPOOL_DIR, bucket)
    return LocalSpool(settings.SPOOL_DIR)


def free_bytes(root: Path) -> int | None:
    """Bytes free for this user on the spool's file system; None if it cannot be read."""
    try:
        return shutil.disk_usage(root).free
    except OSError:
        return None


def note_refusal() -> None:
    """Remember, for the admin pages, that an upload was just refused for lack of space.

    Kept in the cache (Redis) so that every Daphne process's refusals reach the admin; a cache
    that is down costs the note, never the answer to the upload.
    """
    try:
        cache.set(REFUSED_KEY, timezone.now().isoformat(), timeout=settings.SPOOL_REFUSAL_NOTICE_SECONDS)
    except Exception:  # the cache is a convenience here; the ERROR log line has been written
        logger.warning("could not note the spool refusal in the cache", exc_info=True)


def _last_refusal() -> datetime | None:
    try:
        raw = cache.get(REFUSED_KEY)
    except Exception:
        logger.warning("could not read the spool refusal note from the cache", exc_info=True)
        return None
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Shortage:
    """What staff are told while the spool is short of space."""

    root: Path
    free: int | None
    low_level: int
    refused_at: datetime | None

    @property
    def message(self) -> str:
        parts = [f"The recording spool ({self.root}) is short of space:"]
        if self.free is not None:
            parts.append(f"{_size(self.free)} free, below the warning level of {_size(self.low_level)}.")
        if self.refused_at is not None:
            when = timezone.localtime(self.refused_at).strftime("%Y-%m-%d %H:%M:%S %Z")
            parts.append(f"Segment uploads were refused for lack of space (last at {when}).")
        parts.append(
            "Browsers keep refused segments and retry; free space on that disk (or move SPOOL_DIR) "
            "so that recordings can go on."
        )
        return " ".join(parts)


def shortage() -> Shortage | None:
    """The spool's shortage of space, if any: free space below the warning level, or a recent refusal."""
    root = Path(settings.SPOOL_DIR)
    free = free_bytes(root if root.exists() else root.parent)
    low_level = int(settings.SPOOL_LOW_SPACE_BYTES)
    refused_at = _last_refusal()
    if refused_at is None and (free is None or free >= low_level):
        return None
    return Shortage(root=root, free=free, low_level=low_level, refused_at=refused_at)


def _size(count: int) -> str:
    """A byte count as people read it (MiB up to a GiB, then GiB)."""
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GiB"
    return f"{count / 1024**2:.1f} MiB"
