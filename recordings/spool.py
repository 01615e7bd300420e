"""Where segments wait, durably, until they are composed.

One small interface so that moving from a local directory to a shared volume
(or object storage) is a setting: workers on other machines must reach it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings


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
        return tempfile.NamedTemporaryFile(dir=target.parent, prefix=".incoming-", delete=False)

    def commit(self, temp: BinaryIO, relpath: str) -> None:
        """Make the bytes durable (file and directory entry) before anyone is told they are stored."""
        temp.flush()
        os.fsync(temp.fileno())
        temp.close()
        target = self.path(relpath)
        os.replace(temp.name, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def discard(self, temp: BinaryIO) -> None:
        temp.close()
        try:
            os.unlink(temp.name)
        except FileNotFoundError:
            pass


def get_spool() -> LocalSpool:
    return LocalSpool(settings.SPOOL_DIR)
