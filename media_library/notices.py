"""What the media library tells people: a recording's file is ready (SPEC.md "Stopping a recording",
step 4), and retention and the recycle bin (docs/notices.md "Retention and the recycle bin").

`{date}` and `{days}` are filled in where the text is shown (`{% library_text %}`, `texts.fill`).
"""

from __future__ import annotations

from core.events import NoticeTexts

TEXTS = NoticeTexts(
    file_available="Your recording file is available",
    file_available_owner_only="The recording is available to its owner",
    retention_warning="Your recording will be deleted on {date}",
    retention_due="Will be deleted on {date}",
    retention_kept="Kept: it will not be deleted on {date}",
    moved_to_bin="Moved to the recycle bin. You can restore it for {days} days",
    delete_goes_to_bin=(
        "It goes to the recycle bin, where you can restore it for {days} days; then it is deleted for good"
    ),
    restored_from_bin="Restored from the recycle bin",
    recycle_bin_intro="Deleted items stay here for {days} days, then they are deleted for good",
)


def fill(code: str, **values: object) -> str:
    """A text with its `{date}` / `{days}` filled in."""
    return TEXTS.text(code).format(**values)
