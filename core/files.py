"""Writing a file so that readers see the old one or the whole new one, never a part of it.

The bytes go to a temp file beside the target (same directory, so the same file system and the
rename is atomic), are flushed and fsynced, and only then is the temp file renamed over the
target. With ``fsync_dir`` the directory is fsynced too, so the rename itself survives a crash
(needed before telling anyone the file is stored). If anything fails before the rename, the
temp file is removed and the target is untouched.

``atomic_path(path)`` yields the temp file's path, for a writer that opens it by name (PyAV's
``av.open(tmp, "w", format=...)``, a copy); the primitives it is built from
(``open_temp``/``commit_file``/``discard_file``) serve a caller whose write spans several calls
(the spool: a request body arriving piece by piece).

The bottom layer: standard library only, no Django, no app.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

StrPath = str | os.PathLike[str]

_ATTEMPTS = 100  # a name collision needs two equal 48-bit tokens; retrying is only a formality


def temp_path(path: StrPath, *, prefix: str | None = None, suffix: str = "") -> Path:
    """A fresh name beside ``path``: ``<prefix><random><suffix>``.

    The prefix defaults to ``<name>.tmp-`` (so ``out.mp4`` gets ``out.mp4.tmp-3f9c0a1b22de``);
    the suffix matters where a library picks a format from the extension.
    """
    target = Path(path)
    head = f"{target.name}.tmp-" if prefix is None else prefix
    return target.parent / f"{head}{secrets.token_hex(6)}{suffix}"


def open_temp(path: StrPath, *, prefix: str | None = None, suffix: str = "", permissions: int = 0o666) -> BinaryIO:
    """A new temp file beside ``path``, created exclusively and open for binary writing; ``.name`` is its path.

    ``permissions`` are the new file's mode before the umask (0o666, like ``open``; 0o600 for a
    file only this user may read, like ``tempfile``).
    """

    def opener(name: str, flags: int) -> int:
        return os.open(name, flags, permissions)

    for _ in range(_ATTEMPTS):
        name = os.fspath(temp_path(path, prefix=prefix, suffix=suffix))
        try:
            return open(name, "xb", opener=opener)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name beside {os.fspath(path)!r}")


def fsync_path(path: StrPath) -> None:
    """Flush a closed file's bytes to the disk."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_directory(path: StrPath) -> None:
    """Flush a directory's entries (a rename into it) to the disk."""
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def replace(tmp: StrPath, path: StrPath, *, fsync_dir: bool = False) -> None:
    """Rename an already fsynced ``tmp`` over ``path``; with ``fsync_dir``, make the rename durable too."""
    os.replace(tmp, path)
    if fsync_dir:
        fsync_directory(Path(path).parent)


def commit_file(fh: IO[Any], path: StrPath, *, fsync_dir: bool = False) -> None:
    """Flush, fsync and close a file from ``open_temp``, then rename it over ``path``."""
    fh.flush()
    os.fsync(fh.fileno())
    fh.close()
    replace(fh.name, path, fsync_dir=fsync_dir)


def commit_path(tmp: StrPath, path: StrPath, *, fsync_dir: bool = False) -> None:
    """Fsync the closed file ``tmp``, then rename it over ``path``."""
    fsync_path(tmp)
    replace(tmp, path, fsync_dir=fsync_dir)


def discard_path(tmp: StrPath) -> None:
    """Remove a temp file, if it is (still) there."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def discard_file(fh: IO[Any]) -> None:
    """Close and remove a file from ``open_temp``; harmless after ``commit_file``."""
    fh.close()
    discard_path(fh.name)


@contextmanager
def atomic_path(
    path: StrPath, *, prefix: str | None = None, suffix: str = "", fsync_dir: bool = False
) -> Iterator[str]:
    """Yield a temp path beside ``path`` for the block to write (and close); it then replaces ``path``.

    The file is not created in advance: the writer creates it, with its usual permissions. On an
    exception in the block (or while committing) whatever was written there is removed, ``path``
    is untouched, and the exception propagates.
    """
    tmp = os.fspath(temp_path(path, prefix=prefix, suffix=suffix))
    try:
        yield tmp
        commit_path(tmp, path, fsync_dir=fsync_dir)
    except BaseException:
        discard_path(tmp)
        raise
