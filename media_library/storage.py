"""Putting big files into the default storage, and reaching them again, with bounded memory.

Django's `Storage.save()` picks a fresh name when one is taken, so a retried upload would
leave a second copy. The publish step needs "store exactly at this name, replacing what is
there" instead, which is atomic on both backends we run on: a file system rename, and an S3
object that appears only when its (multipart) upload completes.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from django.core.files import File
from django.core.files.storage import Storage, default_storage

from core import files
from media_library import conf

if TYPE_CHECKING:
    from typing import TypeGuard

    # django-storages ships no type information, so to mypy this is Any: is_s3() below opens up
    # the S3-only attributes (bucket, client, transfer config, signed URLs) without a check.
    from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorageError(Exception):
    """A storage operation failed after every retry; the message says what and why."""


class SizeMismatch(Exception):
    """The stored object is not the size of the local file: the upload did not complete."""


def _retryable_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, SizeMismatch]
    try:  # boto3 is only needed when S3 is in use; keep the file-system path importable without it
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [Boto3Error, BotoCoreError, ClientError]
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def get_storage() -> Storage:
    return default_storage


def is_s3(storage: Storage) -> TypeGuard[S3Storage]:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover
        return False
    return isinstance(storage, S3Storage)


def local_path(storage: Storage, name: str) -> str | None:
    """The file's path on this machine, or None for remote storages (S3)."""
    try:
        return storage.path(name)
    except NotImplementedError:
        return None


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter, so retrying workers do not hammer storage in step."""
    base = conf.publish_backoff_seconds()
    if base <= 0:
        return 0.0
    delay = min(base * (2 ** (attempt - 1)), conf.publish_backoff_max_seconds())
    return delay * random.uniform(0.5, 1.0)


def with_retries(what: str, operation: Callable[[], T]) -> T:
    attempts = conf.publish_attempts()
    retryable = _retryable_errors()
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except retryable as exc:
            if attempt == attempts:
                raise StorageError(f"{what} failed after {attempts} attempts: {exc}") from exc
            delay = backoff_delay(attempt)
            logger.warning("%s failed (attempt %s of %s), retrying in %.1fs: %s", what, attempt, attempts, delay, exc)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def stored_size(storage: Storage, name: str) -> int | None:
    """The stored object's size, or None if there is none."""
    try:
        return storage.size(name)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    except Exception as exc:  # botocore raises ClientError for a missing key in some versions
        if _is_not_found(exc):
            return None
        raise


def _is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def put_file(*, storage: Storage, name: str, path: str | os.PathLike[str], content_type: str) -> int:
    """Store the local file at exactly `name` (replacing any earlier object), verify, return its size.

    Retries with backoff; the stored size must equal the local size before this returns, so a
    caller never marks something available that storage does not fully hold.
    """
    size = os.path.getsize(path)

    def attempt() -> int:
        _put_once(storage=storage, name=name, path=os.fspath(path), content_type=content_type)
        stored = stored_size(storage, name)
        if stored != size:
            raise SizeMismatch(f"stored {stored} bytes of {size} at {name}")
        return stored

    return with_retries(f"storing {name}", attempt)


def put_bytes(*, storage: Storage, name: str, data: bytes, content_type: str) -> int:
    """Small payloads (posters) go through the same verified, exact-name path."""
    with tempfile.NamedTemporaryFile(prefix="liverec-", suffix=Path(name).suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return put_file(storage=storage, name=name, path=tmp.name, content_type=content_type)


def _put_once(*, storage: Storage, name: str, path: str, content_type: str) -> None:
    if is_s3(storage):
        _put_s3(storage=storage, name=name, path=path, content_type=content_type)
        return
    target = local_path(storage, name)
    if target is not None:
        _put_local(storage=storage, target=Path(target), path=path)
        return
    # Any other backend: the best Django's API allows is delete-then-save under the same name.
    if storage.exists(name):
        storage.delete(name)
    with open(path, "rb") as fh:
        saved = storage.save(name, File(fh, name=os.path.basename(name)))
    if saved != name:
        storage.delete(saved)
        raise StorageError(f"storage renamed {name} to {saved}")


def _put_s3(*, storage: S3Storage, name: str, path: str, content_type: str) -> None:
    """Upload through the S3 client with the storage's TransferConfig (multipart, bounded memory).

    django-storages' own `_save` calls `upload_fileobj` only after `get_available_name`, which
    would rename rather than replace on a retry. We call the client ourselves, and with the
    file's *path*: s3transfer then reads each part lazily from disk while sending it, so memory
    stays at a few io chunks whatever the part size. Handed a file object instead
    (`upload_fileobj`), it reads whole parts into memory, up to max_in_memory_upload_chunks x
    multipart_chunksize (10 x 8 MB by default); bench/upload_bench.py measures both.
    """
    from storages.utils import clean_name

    key = storage._normalize_name(clean_name(name))  # noqa: SLF001 - the storage's own key mapping (location prefix)
    params = storage.get_object_parameters(name)
    params.setdefault("ContentType", content_type)
    if getattr(storage, "default_acl", None) and "ACL" not in params:
        params["ACL"] = storage.default_acl
    client = storage.connection.meta.client
    client.upload_file(path, storage.bucket_name, key, ExtraArgs=params, Config=storage.transfer_config)


def _put_local(*, storage: Storage, target: Path, path: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Renamed into place only when whole and fsynced: readers see the old file or the whole new one.
    with files.atomic_path(target, prefix=f".{target.name}.", suffix=".part") as tmp:
        # copyfile uses sendfile() on Linux: in-kernel copy, no user-space buffer at all.
        shutil.copyfile(path, tmp)
        mode = getattr(storage, "file_permissions_mode", None)
        if mode is not None:
            os.chmod(tmp, mode)


def delete_quietly(storage: Storage, name: str | None) -> None:
    """Remove a stored object, if named; a failure is logged, never raised (the database row is already gone)."""
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:
        logger.exception("could not delete %s from storage", name)


def signed_url(storage: Storage, name: str, *, content_type: str, disposition: str) -> str:
    """A URL the browser can fetch directly: for S3 a signed, expiring one (S3 serves Range itself)."""
    if is_s3(storage):
        return storage.url(
            name,
            parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition},
            expire=conf.signed_url_seconds(),
        )
    return storage.url(name)
