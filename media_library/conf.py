"""The media library's settings, with defaults, read at call time so tests can override them.

config/settings.py may set any of these (from the environment) without this app changing.
"""

from __future__ import annotations

from django.conf import settings


def upload_max_bytes() -> int:
    """Largest file a host may upload into a room's Media and Files."""
    return int(getattr(settings, "MEDIA_UPLOAD_MAX_BYTES", 2 * 1024 * 1024 * 1024))


# Room for the multipart framing and the form's other fields around the file.
UPLOAD_OVERHEAD_BYTES = 1024 * 1024


def upload_request_max_bytes() -> int:
    """Largest request body of an upload: the file plus multipart overhead (the server refuses more, 413)."""
    return upload_max_bytes() + UPLOAD_OVERHEAD_BYTES


def publish_attempts() -> int:
    """Tries of each storage operation of the publish step before it gives up."""
    return max(1, int(getattr(settings, "MEDIA_PUBLISH_ATTEMPTS", 5)))


def publish_backoff_seconds() -> float:
    """First pause between storage tries; it doubles each time (capped by publish_backoff_max_seconds)."""
    return float(getattr(settings, "MEDIA_PUBLISH_BACKOFF_SECONDS", 1.0))


def publish_backoff_max_seconds() -> float:
    return float(getattr(settings, "MEDIA_PUBLISH_BACKOFF_MAX_SECONDS", 30.0))


def stream_chunk_bytes() -> int:
    """Bytes read per step when streaming a file: memory per open stream stays at this."""
    return int(getattr(settings, "MEDIA_STREAM_CHUNK_BYTES", 256 * 1024))


def page_size() -> int:
    return int(getattr(settings, "MEDIA_PAGE_SIZE", 24))


def signed_url_seconds() -> int:
    """Lifetime of a signed S3 URL handed to a browser (S3 storages use their own querystring_expire)."""
    return int(getattr(settings, "MEDIA_URL_TTL_SECONDS", 600))


def retention_days() -> int | None:
    """The site's retention: recordings go to the recycle bin this many days after the basis (None: keep)."""
    days = getattr(settings, "RETENTION_DAYS", None)
    return int(days) if days else None


def retention_basis() -> str:
    """What the site's retention counts from: "created" or "last_viewed"."""
    basis = str(getattr(settings, "RETENTION_BASIS", "created"))
    return basis if basis in ("created", "last_viewed") else "created"


def recycle_bin_days() -> int:
    """How long a deleted entry stays restorable in the recycle bin."""
    return max(1, int(getattr(settings, "RECYCLE_BIN_DAYS", 30)))


def retention_warning_days() -> int:
    """The owner is told this long before the retention policy deletes an entry."""
    return max(0, int(getattr(settings, "RETENTION_WARNING_DAYS", 7)))


# A view is written at most once per this: streaming sends many Range requests, one write is enough.
LAST_VIEW_PRECISION_SECONDS = 60 * 60


def present_pdf_max_pages() -> int:
    """A presented PDF shows at most this many pages (each rendered once, to a PNG in storage)."""
    return int(getattr(settings, "PRESENT_PDF_MAX_PAGES", 200))


def present_page_box() -> tuple[int, int]:
    """A rendered PDF page fits this box (pixels): the recording's 1080p stage, so it is drawn at full quality."""
    width, height = getattr(settings, "PRESENT_PAGE_BOX", (1920, 1080))
    return int(width), int(height)
