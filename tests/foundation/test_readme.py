"""The README stands alone in a clone: its two set-up commands first, and every file it names in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_it_starts_with_exactly_the_two_set_up_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None and README.index("```sh") < README.index("\n## ")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_every_path_it_names_is_in_the_repository() -> None:
    assert "../" not in README, "the README points outside the repository"
    # Markdown links and images, and `code` spans that look like a path of ours (a/b.ext or a/).
    linked = re.findall(r"\]\(([^)#\s]+)\)", README)
    spans = re.findall(r"`([A-Za-z0-9_.\-]+/[A-Za-z0-9_./\-]*)`", README)
    paths = [p for p in linked if "://" not in p] + [p for p in spans if "<" not in p and " " not in p]
    assert len(paths) > 10  # the check reads what it should
    missing = sorted({p for p in paths if not (ROOT / p.rstrip("/")).exists() and not p.startswith(("/", "var/"))})
    assert not missing, missing


def test_it_names_no_file_that_only_the_team_has() -> None:
    for name in ("SPEC.md", "DESIGN.md", "NOTES.md", "DEVELOPERS.md"):
        assert name not in README, name
