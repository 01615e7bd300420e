"""core.files: a file is replaced whole or not at all, and no temp file is left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core import files


class Boom(Exception):
    pass


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_atomic_path_lands_whole_with_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")
    with files.atomic_path(target, suffix=".mp4") as tmp:
        assert tmp.endswith(".mp4") and tmp != str(target)
        assert Path(tmp).parent == tmp_path
        assert not os.path.exists(tmp)  # the writer creates it
        Path(tmp).write_bytes(b"new content")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new content"
    assert names(tmp_path) == ["clip.mp4"]


def test_atomic_path_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")
    with pytest.raises(Boom), files.atomic_path(target, fsync_dir=True) as tmp:
        assert Path(tmp).parent == tmp_path and tmp != str(target)
        Path(tmp).write_bytes(b"partial")
        raise Boom
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["clip.mp4"]


def test_atomic_path_failure_before_writing(tmp_path: Path) -> None:
    with pytest.raises(Boom), files.atomic_path(tmp_path / "clip.mp4") as tmp:
        assert Path(tmp).parent == tmp_path
        raise Boom
    assert names(tmp_path) == []


def test_temp_names_are_fresh_and_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "000000.mp4"
    a, b = files.temp_path(target), files.temp_path(target)
    assert a != b and a.parent == b.parent == tmp_path
    assert a.name.startswith("000000.mp4.tmp-")  # what a killed writer leaves is recognisable
    hidden = files.temp_path(target, prefix=".incoming-", suffix=".part")
    assert hidden.name.startswith(".incoming-") and hidden.name.endswith(".part")


def test_primitives_commit_and_discard(tmp_path: Path) -> None:
    target = tmp_path / "seg.webm"
    fh = files.open_temp(target, prefix=".incoming-", permissions=0o600)
    fh.write(b"segment")
    assert stat.S_IMODE(os.stat(fh.name).st_mode) == 0o600
    files.commit_file(fh, target, fsync_dir=True)
    assert fh.closed and target.read_bytes() == b"segment"
    assert names(tmp_path) == ["seg.webm"]
    files.discard_file(fh)  # harmless after a commit
    assert target.read_bytes() == b"segment"

    other = files.open_temp(target)
    other.write(b"abandoned")
    files.discard_file(other)
    assert target.read_bytes() == b"segment"
    assert names(tmp_path) == ["seg.webm"]
