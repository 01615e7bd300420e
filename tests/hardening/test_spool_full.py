"""A full spool disk (item 8): 507 with a clear message, the admin alerted, nothing acknowledged lost.

The fault is real: the spool of a Daphne started for this test is a tmpfs of 2 MiB mounted
here (the tests run as root; where mounting is not permitted the test is skipped and says so),
filled with a filler file until the kernel answers ENOSPC. No mock.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.test import Client

from recordings.models import Segment
from tests.hardening.conftest import OwnServer, own_server, segment_url, signed_in, spool_files
from tests.live.conftest import session_cookie

SPOOL_SIZE = "2m"


@pytest.fixture
def small_spool_server(tmp_path: Path, transactional_db) -> Iterator[tuple[OwnServer, Path]]:
    # settings_test puts the spool at $TEST_RUN_DIR/spool: a run directory of its own, its spool a tmpfs.
    run_dir = tmp_path / f"spoolrun{os.getpid()}"
    spool = run_dir / "spool"
    spool.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SPOOL_SIZE},mode=0700", "tmpfs", str(spool)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the spool here (needs root): {mounted.stderr.strip()}")
    try:
        with own_server(tmp_path, TEST_RUN_DIR=str(run_dir)) as server:
            yield server, spool
    finally:
        subprocess.run(["umount", "-l", str(spool)], check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the file system is full (ENOSPC), as a disk fills up for real."""
    filler = directory / "filler.bin"
    with open(filler, "wb", buffering=0) as fh:
        piece = b"\0" * 4096
        while True:
            try:
                fh.write(piece)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    return filler


def test_a_full_spool_answers_507_keeps_what_was_acknowledged_and_alerts_staff(
    small_spool_server, demo, running, webm_bytes
) -> None:
    server, spool = small_spool_server
    with signed_in(server.url, demo.users["participant"]) as client:
        for seq in (0, 1):
            body = webm_bytes[:-1] + bytes([seq])
            assert client.put(segment_url(running, seq=seq), content=body).status_code == 201
        acknowledged = {s.path: s.sha256 for s in Segment.objects.all()}
        filler = fill(spool)

        refused = client.put(segment_url(running, seq=2), content=webm_bytes)
        assert refused.status_code == 507, refused.text
        assert refused.json()["ok"] is False and "storage is full" in refused.json()["error"]
        # Nothing of the refused upload stays: no row, no temp file; what was acknowledged is intact.
        assert Segment.objects.count() == 2
        files = [p for p in spool_files(spool) if p != filler]
        assert sorted(str(p.relative_to(spool)) for p in files) == sorted(acknowledged)
        for relpath, sha in acknowledged.items():
            assert hashlib.sha256((spool / relpath).read_bytes()).hexdigest() == sha

        # The admin is alerted: an ERROR line in the server's log, no traceback...
        log = server.log_text()
        assert "ERROR recordings.asgi: spool full: segment 2" in log and "No space left on device" in log
        assert "Traceback" not in log
        # ...and a warning on the admin's pages, served by the same server.
        admin_cookie = session_cookie(Client(), demo.users["admin"])
        with httpx.Client(base_url=server.url, cookies={"sessionid": admin_cookie}, timeout=30) as admin:
            for page in ("/admin/", "/admin/recordings/recording/"):
                answer = admin.get(page)
                assert answer.status_code == 200, page
                assert "The recording spool" in answer.text and "short of space" in answer.text, page
                assert "refused for lack of space" in answer.text, page

        # Space again: the browser's retry of the same segment is stored.
        filler.unlink()
        again = client.put(segment_url(running, seq=2), content=webm_bytes)
        assert again.status_code == 201, again.text
    assert Segment.objects.count() == 3
