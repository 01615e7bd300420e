"""Admin: reassign an entry's owner, republish, retry publishing; deleting in the admin deletes the file."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.storage import default_storage

from media_library import tasks
from media_library.models import MediaEntry
from recordings.models import Recording
from tests.library.conftest import make_recording


@pytest.fixture
def run_tasks_inline(monkeypatch):
    ran: list[int] = []

    def apply_async(*, args: list[int], countdown: float | None = None) -> None:
        ran.append(args[0])
        tasks.publish_recording_task(*args)

    monkeypatch.setattr(tasks.publish_recording_task, "apply_async", apply_async)
    return ran


@pytest.mark.django_db
def test_reassign_owner_with_an_intermediate_form(client, cast, publish) -> None:
    entry = publish("single")
    client.force_login(cast.users["admin"])
    url = "/admin/media_library/mediaentry/"
    form = client.post(url, {"action": "reassign_owner", ACTION_CHECKBOX_NAME: [entry.pk]})
    assert form.status_code == 200 and b"New owner" in form.content and entry.title.encode() in form.content
    target = cast.users["coeditor"]  # a co-editor becomes the owner and stops being a collaborator
    done = client.post(
        url, {"action": "reassign_owner", ACTION_CHECKBOX_NAME: [entry.pk], "apply": "1", "new_owner": target.pk}
    )
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.owner == target and not entry.collaborators.filter(user=target).exists()
    bad = client.post(
        url, {"action": "reassign_owner", ACTION_CHECKBOX_NAME: [entry.pk], "apply": "1", "new_owner": "999999"}
    )
    assert bad.status_code == 200 and b"Select a valid choice" in bad.content


@pytest.mark.django_db
def test_republish_entry_from_admin_restores_a_lost_file(
    client, cast, publish, run_tasks_inline, tmp_path, django_capture_on_commit_callbacks
) -> None:
    entry = publish("single")
    recording = entry.source_recording
    # The recordings side keeps the verified MP4 in the work area (output_path).
    work = tmp_path / "work.mp4"
    work.write_bytes(default_storage.open(entry.file.name).read())
    Recording.objects.filter(pk=recording.pk).update(output_path=str(work))
    default_storage.delete(entry.file.name)
    client.force_login(cast.users["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/media_library/mediaentry/", {"action": "republish_entries", ACTION_CHECKBOX_NAME: [entry.pk]}
        )
    assert response.status_code == 302 and run_tasks_inline == [recording.pk]
    assert default_storage.exists(entry.file.name) and MediaEntry.objects.count() == 1


@pytest.mark.django_db
def test_recording_actions_retry_and_republish(
    client, cast, mp4_file, run_tasks_inline, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    failed = make_recording(cast.room("single"), cast.users["starter"], state=Recording.State.FAILED)
    Recording.objects.filter(pk=failed.pk).update(output_path=str(mp4_file()), error="storage down")
    missing = make_recording(cast.room("integration"), cast.users["starter"], state=Recording.State.PROCESSING)
    Recording.objects.filter(pk=missing.pk).update(output_path="/nowhere/x.mp4")
    live = make_recording(cast.room("channel"), cast.users["starter"], state=Recording.State.RECORDING)
    client.force_login(cast.users["admin"])
    url = "/admin/recordings/recording/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"action": "retry_publishing", ACTION_CHECKBOX_NAME: [failed.pk, missing.pk, live.pk]}, follow=True
        )
    assert run_tasks_inline == [failed.pk]
    page = response.content.decode()
    assert "Publishing queued: 1 recording" in page and "2 recording(s) skipped" in page and "MP4 is missing" in page
    failed.refresh_from_db()
    assert failed.state == Recording.State.AVAILABLE and failed.entry
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "retry_publishing", ACTION_CHECKBOX_NAME: [failed.pk]})  # available: re-verify
    assert run_tasks_inline == [failed.pk, failed.pk] and MediaEntry.objects.count() == 1


@pytest.mark.django_db
def test_retrying_from_segments_says_when_the_segments_are_gone(client, cast) -> None:
    """A published recording whose segments the retention rule removed cannot be processed again, and
    the admin says so, not that its state is wrong (it is available, a state that may be retried)."""
    from django.utils import timezone

    kept = make_recording(cast.room("single"), cast.users["starter"], state=Recording.State.RECORDING)
    gone = make_recording(cast.room("integration"), cast.users["starter"], state=Recording.State.AVAILABLE)
    Recording.objects.filter(pk=gone.pk).update(media_removed_at=timezone.now())
    client.force_login(cast.users["admin"])
    response = client.post(
        "/admin/recordings/recording/",
        {"action": "retry_from_segments", ACTION_CHECKBOX_NAME: [kept.pk, gone.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 recording(s) skipped: only failed, available or held" in page
    assert "1 recording(s) skipped: their segments were removed after publishing" in page
    gone.refresh_from_db()
    assert gone.state == Recording.State.AVAILABLE  # untouched


@pytest.mark.django_db
def test_deleting_in_the_admin_bins_then_deletes_the_stored_file(
    client, cast, publish, django_capture_on_commit_callbacks
) -> None:
    entry = publish("single")
    name = entry.file.name
    client.force_login(cast.users["admin"])
    # First to the recycle bin, like a deletion on the site (restorable, the file kept)...
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/media_library/mediaentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not MediaEntry.objects.exists() and default_storage.exists(name)
    assert MediaEntry.all_objects.get(pk=entry.pk).deleted_by == cast.users["admin"]
    # ...then, deleted again from the bin, for good with its stored file.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/media_library/mediaentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not MediaEntry.all_objects.exists() and not default_storage.exists(name)


@pytest.mark.django_db
def test_admin_is_for_staff_only(client, cast, publish) -> None:
    entry = publish("single")
    client.force_login(cast.users["host"])  # owns the entry, but is not staff
    response = client.get(f"/admin/media_library/mediaentry/{entry.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(cast.users["admin"])
    page = client.get(f"/admin/media_library/mediaentry/{entry.pk}/change/")
    assert page.status_code == 200 and f"/media/{entry.pk}/".encode() in page.content  # view on site
