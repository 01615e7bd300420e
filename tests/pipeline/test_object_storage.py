"""The spool and the fragment store in S3 (moto's server on loopback): workers that share no disk.

In one process, with the local spool directory emptied after the segments went to S3: what the
pipeline composes can only have come from S3, and what publish reads only from the fragment store.
The multi-process version (two Daphnes, two workers, a worker killed) is tests/faults/test_scaleout.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import av
import boto3
import pytest
from django.conf import settings

from media_library.models import MediaEntry
from recordings import fragments, objectstore, services, spool
from recordings.models import Fragment, Recording
from tests.pipeline.conftest import Part, build_recording

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "liverec-recording-media"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_media(settings, monkeypatch, moto_endpoint: str):  # type: ignore[no-untyped-def]
    """The spool and the fragment store in a fresh bucket of the local S3 server."""
    for name, value in {
        "AWS_S3_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client(
        "s3", endpoint_url=moto_endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    settings.RECORDING_MEDIA_BUCKET = BUCKET
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_s3_spool_acknowledges_after_the_put_and_hands_workers_copies(s3_media, tmp_path: Path) -> None:
    store = spool.get_spool()
    assert isinstance(store, spool.S3Spool)
    relpath = "uid-1/camera-x/000000-abcdef.webm"
    temp = store.temp_file("uid-1/camera-x/000000.incoming")
    temp.write(b"\x1a\x45\xdf\xa3 segment bytes")
    store.commit(temp, relpath)
    # Stored in S3 under the spool's prefix; nothing staged is left behind on the local disk.
    assert keys(s3_media, "spool/") == [f"spool/{relpath}"]
    assert not list(Path(settings.SPOOL_DIR).glob(".incoming-*"))  # the staged body
    copy = store.local_copy(relpath, tmp_path)
    assert copy.read_bytes() == b"\x1a\x45\xdf\xa3 segment bytes" and tmp_path in copy.parents
    assert not store.local_copy("uid-1/camera-x/000001-missing.webm", tmp_path).exists()  # lost stays lost
    with pytest.raises(ValueError):
        store.local_copy("../other/x.webm", tmp_path)
    assert store.list_recording("uid-1") == [relpath]
    assert store.remove_recording("uid-1") == 1 and keys(s3_media, "spool/") == []


def test_s3_spool_that_cannot_store_refuses_without_keeping_anything(s3_media, settings) -> None:
    settings.RECORDING_MEDIA_BUCKET = "no-such-bucket"
    store = spool.get_spool()
    temp = store.temp_file("uid-2/camera-x/000000.incoming")
    temp.write(b"\x1a\x45\xdf\xa3 bytes")
    with pytest.raises(spool.SpoolUnavailable):
        store.commit(temp, "uid-2/camera-x/000000-abcdef.webm")
    assert not list(Path(settings.SPOOL_DIR).glob(".incoming-*"))  # the staged body


def test_windows_finalize_and_publish_meet_only_in_s3(demo, short_windows, s3_media) -> None:
    recording = build_recording(
        demo,
        [Part("host", "red", start=0.0, count=2, length=4.0), Part("participant", "blue", start=0.0, count=2)],
        stop_at=8.0,
    )
    # The segments go to S3 and leave this machine's spool: composition can only read them from S3.
    bucket = objectstore.configured(settings.RECORDING_SPOOL_PREFIX)
    assert bucket is not None
    local = Path(settings.SPOOL_DIR) / str(recording.uid)
    for segment in local.rglob("*.webm"):
        bucket.put_file(segment, str(segment.relative_to(settings.SPOOL_DIR)))
    shutil.rmtree(local)
    uid = str(recording.uid)
    assert len(keys(s3_media, f"spool/{uid}/")) == 4

    scratch = Path(settings.WORK_DIR) / "scratch"
    before = set(scratch.iterdir()) if scratch.exists() else set()  # a killed worker's, in a full run
    services.begin_processing(recording_id=recording.pk)  # finalize, then publish (eager tasks)
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE, recording.error
    assert recording.output_path == f"s3://{BUCKET}/fragments/{uid}/final.mp4"
    windows = list(Fragment.objects.filter(recording=recording))
    assert len(windows) == 2 and all(w.state == "done" and w.composed_by for w in windows)
    assert all(w.path.startswith(f"s3://{BUCKET}/fragments/{uid}/fragments/") for w in windows)
    stored = keys(s3_media, f"fragments/{uid}/")
    assert stored == sorted(
        [f"fragments/{uid}/final.mp4"]
        + [f"fragments/{uid}/fragments/{i:06d}{suffix}" for i in range(2) for suffix in (".mp4", ".m4a")]
    )
    # The work directory was only scratch: nothing of the recording stays there.
    assert not (Path(settings.WORK_DIR) / uid).exists()
    assert scratch.is_dir() and set(scratch.iterdir()) == before  # each task's scratch, used and removed
    entry = MediaEntry.objects.get(source_recording=recording)
    with av.open(entry.file.path) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 240  # 8 s at 30 fps

    # After publishing, the sweep's cleanup empties both stores (rows stay: they are the history).
    assert services.remove_published_media() == 1
    assert keys(s3_media, f"spool/{uid}/") == [] and keys(s3_media, f"fragments/{uid}/") == []
    recording.refresh_from_db()
    assert recording.media_removed_at is not None
    assert not fragments.output_exists(recording.output_path)
    assert services.retry_publishing(recording_id=recording.pk) is None  # nothing left to publish from
    assert services.remove_published_media() == 0  # done once


def test_local_stores_are_emptied_after_publishing_too(demo, short_windows) -> None:
    recording = build_recording(demo, [Part("host", "red", start=0.0, count=1, length=4.0)], stop_at=4.0)
    services.begin_processing(recording_id=recording.pk)
    recording.refresh_from_db()
    assert recording.state == Recording.State.AVAILABLE, recording.error
    uid = str(recording.uid)
    assert spool.get_spool().list_recording(uid) and fragments.get_store().list_recording(uid)
    assert Path(recording.output_path).is_file()
    assert services.remove_published_media() == 1
    assert spool.get_spool().list_recording(uid) == [] and fragments.get_store().list_recording(uid) == []
    assert not (Path(settings.SPOOL_DIR) / uid).exists() and not (Path(settings.WORK_DIR) / uid).exists()
