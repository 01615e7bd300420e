"""Playback with seeking on the file-system backend: Range -> 206, bad ranges -> 416, whole file -> 200."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.files.storage import default_storage
from django.test import AsyncClient

from media_library import ranges
from media_library.models import ShareLink


@pytest.mark.parametrize(
    "header,size,expected",
    [
        ("bytes=0-99", 1000, (0, 99)),
        ("bytes=100-199", 1000, (100, 199)),
        ("bytes=900-", 1000, (900, 999)),
        ("bytes=-100", 1000, (900, 999)),
        ("bytes=-5000", 1000, (0, 999)),
        ("bytes=990-5000", 1000, (990, 999)),
        (" bytes = 5 - 6 ", 1000, (5, 6)),
    ],
)
def test_parse_good_ranges(header: str, size: int, expected: tuple[int, int]) -> None:
    parsed = ranges.parse_range(header, size)
    assert (parsed.start, parsed.end) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",
        "bytes=5-1",
        "bytes=-0",
        "bytes=-",
        "bytes=abc",
        "items=0-1",
        "bytes=0-1,5-6",
        "bytes=99999999999999999999999-",
        "",
        "bytes=0-1;",
        "garbage",
    ],
)
def test_parse_bad_ranges(header: str) -> None:
    with pytest.raises(ranges.RangeNotSatisfiable):
        ranges.parse_range(header, 1000)


def test_no_header_means_the_whole_file() -> None:
    assert ranges.parse_range(None, 1000) is None


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def recording_entry(publish):
    return publish("single", pad=300_000)


@pytest.fixture
def owner_client(client, cast):
    client.force_login(cast.users["host"])
    return client


@pytest.mark.django_db
def test_range_request_gets_206_with_exactly_those_bytes(owner_client, recording_entry) -> None:
    data = default_storage.open(recording_entry.file.name).read()
    response = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert response["Content-Length"] == "100" and response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == data[100:200]


@pytest.mark.django_db
def test_open_ended_and_suffix_ranges(owner_client, recording_entry) -> None:
    data = default_storage.open(recording_entry.file.name).read()
    tail = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE=f"bytes={len(data) - 10}-")
    assert tail.status_code == 206 and body(tail) == data[-10:]
    suffix = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE="bytes=-7")
    assert suffix.status_code == 206 and body(suffix) == data[-7:]


@pytest.mark.django_db
def test_whole_file_is_200_and_streamed_in_chunks(owner_client, recording_entry, settings) -> None:
    settings.MEDIA_STREAM_CHUNK_BYTES = 64 * 1024
    data = default_storage.open(recording_entry.file.name).read()
    response = owner_client.get(f"/media/{recording_entry.pk}/stream/")
    assert response.status_code == 200 and response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 64 * 1024
    assert b"".join(chunks) == data
    assert response["Content-Length"] == str(len(data)) and response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["bytes=999999999-", "bytes=9-3", "bytes=abc", "bytes=0-1,4-5", "chars=0-9"])
def test_bad_range_is_416_with_the_size(owner_client, recording_entry, bad: str) -> None:
    response = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE=bad)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{recording_entry.size}"


@pytest.mark.django_db
def test_if_range_with_a_stale_validator_sends_the_whole_file(owner_client, recording_entry) -> None:
    response = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')
    assert response.status_code == 200
    etag = response["ETag"]
    fresh = owner_client.get(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206


@pytest.mark.django_db
def test_head_gives_headers_without_body(owner_client, recording_entry) -> None:
    response = owner_client.head(f"/media/{recording_entry.pk}/stream/", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206 and response["Content-Length"] == "10" and response.content == b""


@pytest.mark.django_db
def test_download_is_an_attachment_named_after_the_title(owner_client, recording_entry) -> None:
    response = owner_client.get(f"/media/{recording_entry.pk}/download/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "Weekly planning.mp4" in disposition
    assert body(response) == default_storage.open(recording_entry.file.name).read()
    ranged = owner_client.get(f"/media/{recording_entry.pk}/download/", HTTP_RANGE="bytes=10-19")
    assert ranged.status_code == 206 and len(body(ranged)) == 10  # downloads resume


@pytest.mark.django_db
def test_share_link_streams_through_its_own_url(client, cast, recording_entry) -> None:
    link = ShareLink.objects.create(entry=recording_entry, created_by=cast.users["host"])
    data = default_storage.open(recording_entry.file.name).read()
    response = client.get(f"/s/{link.token}/stream/", HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206 and body(response) == data[100:200]
    page = client.get(f"/s/{link.token}/")
    assert page.status_code == 200 and f'src="/s/{link.token}/stream/"'.encode() in page.content


@pytest.mark.django_db
def test_a_missing_stored_file_is_404_not_500(owner_client, recording_entry) -> None:
    default_storage.delete(recording_entry.file.name)
    assert owner_client.get(f"/media/{recording_entry.pk}/stream/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_body_is_an_async_stream(cast, publish) -> None:
    """Django's ASGI handler would buffer a sync iterator whole; ours hands it an async one."""
    entry = publish("single", pad=100_000)
    data = default_storage.open(entry.file.name).read()
    client = AsyncClient()
    async_to_sync(client.aforce_login)(cast.users["host"])
    response = async_to_sync(client.get)(f"/media/{entry.pk}/stream/", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.is_async

    async def collect() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    assert async_to_sync(collect)() == data[100:200]


def test_unsafe_types_are_never_inline() -> None:
    assert ranges.is_inline_safe("video/mp4") and ranges.is_inline_safe("image/png")
    assert not ranges.is_inline_safe("text/html") and not ranges.is_inline_safe("image/svg+xml")
