"""Where segments wait, durably, until they are composed.

One small interface so that moving from a local directory to a shared volume
(or object storage) is a setting: workers on other machines must reach it.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from core import files


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
        files.discard_file(temp)


def get_spool() -> LocalSpool:
    return LocalSpool(settings.SPOOL_DIR)
