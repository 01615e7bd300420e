"""Helpers that read the product's source as text (no Django needed)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The product's packages, bottom layer first (DESIGN.md "One direction").
APPS = ("core", "meetings", "recordings", "media_library", "rooms", "api", "webhooks", "lti", "config")
PRODUCT = (*APPS, "loadtest")


def product_modules() -> Iterator[tuple[str, Path, ast.Module]]:
    """(dotted name, path, parsed tree) of every product module, migrations left out."""
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield dotted, path, ast.parse(path.read_text(), filename=str(path))
