"""S3 as the meeting place of the workers: the few object operations the spool and the fragment store need.

One bucket (RECORDING_MEDIA_BUCKET) holds both, each under its key prefix; the client is configured
like the media storage's (django-storages' AWS_* settings: endpoint, region, addressing style, keys),
so one S3-compatible service serves everything. Objects appear whole or not at all (S3 writes are
atomic per object), which is what the spool's "durable before acknowledged" and the fragments'
"a rerun replaces, never half-writes" need. See docs/decisions/0025.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings

from core import files

SCHEME = "s3://"
# S3 deletes at most this many keys per request.
DELETE_BATCH = 1000
COPY_CHUNK = 1 << 20

_clients: dict[tuple[int, tuple[str | None, ...]], Any] = {}
_clients_lock = threading.Lock()


def _client_config() -> tuple[str | None, ...]:
    env = os.environ
    return (
        env.get("AWS_S3_ENDPOINT_URL") or None,
        env.get("AWS_S3_REGION_NAME") or None,
        env.get("AWS_S3_ADDRESSING_STYLE") or None,
        env.get("AWS_ACCESS_KEY_ID") or None,
        env.get("AWS_SECRET_ACCESS_KEY") or None,
    )


def client() -> Any:
    """This process's S3 client (boto3 clients are thread-safe, but must not cross a fork)."""
    config = _client_config()
    key = (os.getpid(), config)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            import boto3
            from botocore.config import Config

            endpoint, region, style, access_key, secret_key = config
            found = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                config=Config(
                    retries={"max_attempts": 5, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=60,
                    s3={"addressing_style": style} if style else {},
                ),
            )
            _clients[key] = found
        return found


def is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def object_errors() -> tuple[type[BaseException], ...]:
    """What a failed S3 request raises (boto3 is imported only when S3 is in use)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (Boto3Error, BotoCoreError, ClientError)


def checked_relpath(relpath: str) -> str:
    """A key below the prefix: relative, no `..`, so no caller can reach another recording's objects."""
    parts = PurePosixPath(relpath).parts
    if not parts or relpath.startswith("/") or any(part in ("..", ".") for part in parts):
        raise ValueError(f"object path escapes its prefix: {relpath!r}")
    return relpath


@dataclass(frozen=True)
class Bucket:
    """A key prefix in a bucket: the spool's, or the fragment store's."""

    name: str
    prefix: str

    def key(self, relpath: str) -> str:
        return self.prefix + checked_relpath(relpath)

    def location(self, relpath: str) -> str:
        return f"{SCHEME}{self.name}/{self.key(relpath)}"

    def put_fileobj(self, fh: BinaryIO, relpath: str) -> None:
        """One PUT of a small file (a segment); returns once S3 has stored it whole."""
        fh.seek(0)
        client().put_object(Bucket=self.name, Key=self.key(relpath), Body=fh)

    def put_file(self, path: Path, relpath: str) -> None:
        """Upload a local file (multipart when big, as boto3's transfer manager decides)."""
        client().upload_file(str(path), self.name, self.key(relpath))

    def download(self, relpath: str, dest: Path) -> bool:
        """The object into `dest` (atomically); False if there is no such object.

        One GET, streamed to the file (boto3's download_file asks HEAD first: a second round trip
        for each of the small files a window task fetches).
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            answer = client().get_object(Bucket=self.name, Key=self.key(relpath))
        except object_errors() as exc:
            if is_not_found(exc):
                return False
            raise
        with answer["Body"] as body, files.atomic_path(dest) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(body, out, COPY_CHUNK)
        return True

    def exists(self, relpath: str) -> bool:
        try:
            client().head_object(Bucket=self.name, Key=self.key(relpath))
        except object_errors() as exc:
            if is_not_found(exc):
                return False
            raise
        return True

    def delete(self, relpath: str) -> None:
        client().delete_object(Bucket=self.name, Key=self.key(relpath))

    def keys_under(self, directory: str) -> list[str]:
        """Paths (relative to the prefix) of every object below `directory`."""
        start = self.key(directory.rstrip("/")) + "/"
        found: list[str] = []
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=start):
            found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return found

    def delete_tree(self, directory: str) -> int:
        """Delete every object below `directory`; returns how many there were."""
        keys = [self.key(relpath) for relpath in self.keys_under(directory)]
        for i in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[i : i + DELETE_BATCH]]
            answer = client().delete_objects(Bucket=self.name, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                raise OSError(f"S3 refused to delete {len(answer['Errors'])} objects: {answer['Errors'][:3]}")
        return len(keys)


def configured(prefix: str) -> Bucket | None:
    """The bucket prefix when recording media lives in S3 (RECORDING_MEDIA_BUCKET set), else None."""
    name = settings.RECORDING_MEDIA_BUCKET
    return Bucket(name=name, prefix=prefix) if name else None


def parse_location(location: str) -> tuple[str, str] | None:
    """(bucket, key) of an `s3://bucket/key` location, None for a local path."""
    if not location.startswith(SCHEME):
        return None
    bucket, _, key = location[len(SCHEME) :].partition("/")
    return bucket, key
