"""Deadlines kept in rows and enforced by an idempotent sweep (DESIGN.md "Timers are deadlines in rows")."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Act on every deadline that has passed; safe to run twice or concurrently."""
    return {}
