"""What people are told when a recording's file is ready (SPEC.md "Stopping a recording", step 4)."""

from __future__ import annotations

from core.events import NoticeTexts

TEXTS = NoticeTexts(
    file_available="Your recording file is available",
    file_available_owner_only="The recording is available to its owner",
)
