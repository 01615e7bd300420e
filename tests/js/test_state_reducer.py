"""The room's pure state reducer (static/js/room/state.js), tested under Node's own test runner.

The tests themselves are JavaScript (tests/js/*.test.mjs); this runs them so `pytest` covers
them. Without Node they are skipped, unless REQUIRE_BROWSER is set (CI), where that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_room_state_reducer_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("Node is required here (REQUIRE_BROWSER is set) but `node` is missing: apt-get install nodejs")
        pytest.skip("no `node` on PATH (apt-get install nodejs) to run tests/js/*.test.mjs")
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "# fail 0" in output, output
    assert "# pass 0" not in output, output  # the runner found the tests
