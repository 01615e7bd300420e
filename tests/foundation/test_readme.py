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


def test_the_run_commands_options_it_names_exist() -> None:
    """`scripts/run.py --web 2 --workers 2` and their environment names, as the README gives them."""
    import subprocess
    import sys

    spans = re.findall(r"`(scripts/run\.py[^`]*|[A-Z_]+=\S+ [A-Z_=0-9 ]*make run)`", README)
    flags = {flag for span in spans for flag in re.findall(r"--[a-z-]+", span)}
    names = {name for span in spans for name in re.findall(r"\b([A-Z_]{4,})=", span)}
    assert {"--web", "--workers"} <= flags and {"WEB_PROCESSES", "MEDIA_WORKERS"} <= names, spans
    usage = subprocess.run(
        [sys.executable, "scripts/run.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for word in flags | names:
        assert word in usage, f"the README names {word}, which scripts/run.py does not take"
