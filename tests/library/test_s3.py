"""The S3 path against a real moto server on loopback: multipart publish, signed Range fetch, delete
to the recycle bin and its purge."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.storage import default_storage
from django.utils import timezone

from media_library import deadlines, services, storage
from media_library.models import MediaEntry
from tests.library.conftest import make_recording

BUCKET = "liverec-test"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_client(moto_endpoint: str):
    return boto3.client(
        "s3", endpoint_url=moto_endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )


@pytest.fixture
def s3_storage(settings, moto_endpoint: str) -> None:
    """The default storage becomes S3 for this test, with a multipart threshold a small file crosses."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": moto_endpoint,
                "access_key": "x",
                "secret_key": "x",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "file_overwrite": False,
                "querystring_auth": True,
                "querystring_expire": 120,
                # S3's smallest part is 5 MB, so a file of ~6 MB goes up in two parts.
                "transfer_config": TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB),
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert storage.is_s3(default_storage)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.django_db
def test_publish_uploads_multipart_and_signed_url_serves_ranges(
    s3_storage, s3_client, cast, mp4_file, client, django_capture_on_commit_callbacks
) -> None:
    path = mp4_file(pad=6 * MB)
    local = path.read_bytes()
    recording = make_recording(cast.room("single"), cast.users["starter"])
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.publish_recording(recording=recording, mp4_path=str(path))
    key = entry.file.name
    head = s3_client.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(local) == entry.size
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]  # a two-part multipart upload
    assert head["ContentType"] == "video/mp4"
    assert s3_client.head_object(Bucket=BUCKET, Key=entry.poster.name)["ContentLength"] > 0

    # The player's stream URL redirects to a signed, expiring URL; S3 answers the Range itself.
    client.force_login(cast.users["host"])
    response = client.get(f"/media/{entry.pk}/stream/")
    assert response.status_code == 302
    signed = response["Location"]
    assert "Signature=" in signed and "Expires=" in signed  # signed and expiring (SigV2 or V4 by region)
    status, headers, data = fetch(signed, {"Range": "bytes=100-199"})
    assert status == 206 and data == local[100:200]
    assert {k.lower(): v for k, v in headers.items()}["content-range"] == f"bytes 100-199/{len(local)}"
    # (moto does not check signatures, so a tampered URL is not tested here; S3 refuses it.)

    download = client.get(f"/media/{entry.pk}/download/")
    assert download.status_code == 302
    status, headers, data = fetch(download["Location"], {"Range": "bytes=0-9"})
    assert status == 206 and data == local[:10]
    assert {k.lower(): v for k, v in headers.items()}["content-disposition"].startswith("attachment")

    # Outsiders never get a URL at all.
    client.force_login(cast.users["outsider"])
    assert client.get(f"/media/{entry.pk}/stream/").status_code == 404

    # Delete moves it to the recycle bin: the objects stay (restorable) until the bin is purged.
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_entry(entry=entry)
    for name in (key, entry.poster.name):
        assert s3_client.head_object(Bucket=BUCKET, Key=name)["ContentLength"] > 0
    client.force_login(cast.users["host"])
    assert client.get(f"/media/{entry.pk}/stream/").status_code == 404  # but nobody reaches them, its owner neither
    # The sweep, 31 days on, removes the stored objects once the purge has committed; again: nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=timezone.now() + timedelta(days=31))["purged"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=timezone.now() + timedelta(days=32))["purged"] == 0
        assert services.purge_entry(entry_id=entry.pk) is False
    assert not MediaEntry.all_objects.filter(pk=entry.pk).exists()
    for name in (key, entry.poster.name):
        with pytest.raises(s3_client.exceptions.ClientError) as missing:
            s3_client.head_object(Bucket=BUCKET, Key=name)
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.django_db
def test_republish_to_s3_replaces_not_duplicates(s3_storage, s3_client, cast, mp4_file) -> None:
    recording = make_recording(cast.room("integration"), cast.users["starter"])
    path = str(mp4_file())
    entry = services.publish_recording(recording=recording, mp4_path=path)
    s3_client.delete_object(Bucket=BUCKET, Key=entry.file.name)  # the object was lost: republish restores it
    again = services.publish_recording(recording=recording, mp4_path=path)
    assert again.pk == entry.pk
    listed = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=f"recordings/{recording.uid}/")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted([entry.file.name, entry.poster.name])


@pytest.mark.django_db
def test_upload_into_media_and_files_goes_to_s3(s3_storage, s3_client, cast, client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast.users["host"])
    room = cast.room("single")
    upload = SimpleUploadedFile("agenda.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(f"/rooms/{room.pk}/media/", {"action": "upload", "file": upload})
    assert response.status_code == 302
    entry = room.entries.get(title="agenda.pdf")
    assert s3_client.get_object(Bucket=BUCKET, Key=entry.file.name)["Body"].read() == b"%PDF-1.4 test"
