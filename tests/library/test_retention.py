"""Retention and the recycle bin (issue 12, item 4; docs/decisions/0024).

Policy to bin (site, channel and room rules; created and last-viewed bases) with the sweep run at a
moved clock, the owner's warning (next page load and My Media), bin to restore, bin to purge (the
stored file gone; S3 in test_s3.py), and that nobody without access sees the bin's items.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime

from api import services as api_services
from media_library import deadlines, notices, selectors, services
from media_library.models import MediaEntry, RetentionNotice, RetentionPolicy, ShareLink
from tests.library.conftest import add_coviewer

DAY = timedelta(days=1)


def aged(entry: MediaEntry, days: float, *, viewed_days_ago: float | None = None) -> MediaEntry:
    """Make the entry `days` old (and last viewed then), as the clock would have."""
    now = timezone.now()
    MediaEntry.all_objects.filter(pk=entry.pk).update(
        created_at=now - days * DAY,
        last_viewed_at=now - viewed_days_ago * DAY if viewed_days_ago is not None else None,
    )
    return MediaEntry.all_objects.get(pk=entry.pk)


def day(moment: datetime) -> str:
    return date_format(localtime(moment), "M j, Y")


def binned(entry: MediaEntry) -> bool:
    return MediaEntry.all_objects.get(pk=entry.pk).deleted_at is not None


@pytest.mark.django_db
def test_the_site_policy_warns_a_week_ahead_then_bins(settings, cast, publish) -> None:
    settings.RETENTION_DAYS, settings.RETENTION_BASIS = 30, "created"
    old = aged(publish("single"), 40)
    young = aged(publish("single"), 5)
    upload = MediaEntry.objects.create(title="notes.pdf", owner=old.owner, creator=old.owner, room=old.room)
    MediaEntry.objects.filter(pk=upload.pk).update(created_at=timezone.now() - 400 * DAY)

    now = timezone.now()
    assert deadlines.sweep(now=now)["warned"] == 1
    old.refresh_from_db()
    # Overdue already, but never sooner than the warning's week: the owner has time to keep it.
    assert old.deletion_due_at == now + 7 * DAY and not binned(old)
    (notice,) = RetentionNotice.objects.all()
    assert (notice.user, notice.entry, notice.deletion_due_at) == (old.owner, old, old.deletion_due_at)
    assert deadlines.sweep(now=now + DAY)["warned"] == 0  # told once

    deadlines.sweep(now=now + 7 * DAY + timedelta(seconds=1))
    entry = MediaEntry.all_objects.get(pk=old.pk)
    assert entry.deleted_at is not None and entry.deleted_by is None  # by the policy
    assert entry.purge_after is not None and entry.purge_after - entry.deleted_at == 30 * DAY
    assert not binned(young) and not binned(upload)  # too young; not a recording


@pytest.mark.django_db
def test_a_channel_rule_overrides_the_site_and_a_room_rule_overrides_both(settings, cast, publish) -> None:
    settings.RETENTION_DAYS = None  # the site keeps everything
    in_channel = aged(publish("channel"), 12)
    in_single = aged(publish("single"), 12)
    channel_rule = RetentionPolicy.objects.create(channel=cast.demo.channel, days=10)
    now = timezone.now()
    deadlines.sweep(now=now)
    in_channel.refresh_from_db(), in_single.refresh_from_db()
    assert in_channel.deletion_due_at is not None and in_single.deletion_due_at is None

    # The channel room's own rule (keep) beats its channel's: the announced date is forgotten.
    RetentionPolicy.objects.create(room=cast.room("channel"), days=None)
    # The single room's own rule beats the site's keep.
    RetentionPolicy.objects.create(room=cast.room("single"), days=10)
    deadlines.sweep(now=now)
    in_channel.refresh_from_db(), in_single.refresh_from_db()
    assert in_channel.deletion_due_at is None and in_single.deletion_due_at is not None
    deadlines.sweep(now=now + 8 * DAY)
    assert binned(in_single) and not binned(in_channel)
    channel_rule.delete()


@pytest.mark.django_db
def test_the_last_viewed_basis_counts_from_the_last_view_by_anyone_with_access(settings, client, cast, publish) -> None:
    settings.RETENTION_DAYS, settings.RETENTION_BASIS = 30, "last_viewed"
    watched = aged(publish("single"), 90, viewed_days_ago=5)
    forgotten = aged(publish("single"), 90, viewed_days_ago=28)
    now = timezone.now()
    deadlines.sweep(now=now)
    watched.refresh_from_db(), forgotten.refresh_from_db()
    assert watched.deletion_due_at is None
    assert forgotten.deletion_due_at == now + 7 * DAY  # its 30 days end in 2: the owner still gets a week

    # A co-viewer watches it: the clock restarts, the announced date no longer holds.
    add_coviewer(forgotten, cast.users["coviewer"])
    client.force_login(cast.users["coviewer"])
    assert client.get(f"/media/{forgotten.pk}/stream/", HTTP_RANGE="bytes=0-9").status_code == 206
    forgotten.refresh_from_db()
    seen_at = forgotten.last_viewed_at
    assert seen_at is not None and timezone.now() - seen_at < timedelta(seconds=30)
    # At most one write an hour: more Range requests and a page view leave it as it is.
    assert client.get(f"/media/{forgotten.pk}/stream/", HTTP_RANGE="bytes=10-19").status_code == 206
    assert client.get(f"/media/{forgotten.pk}/").status_code == 200
    forgotten.refresh_from_db()
    assert forgotten.last_viewed_at == seen_at
    deadlines.sweep(now=now + 8 * DAY)
    forgotten.refresh_from_db()
    assert forgotten.deletion_due_at is None and not binned(forgotten)


@pytest.mark.django_db
def test_the_owner_is_told_on_the_next_page_load_and_in_my_media_and_may_keep_it(
    settings, client, cast, publish
) -> None:
    settings.RETENTION_DAYS = 30
    entry = aged(publish("single"), 25)
    now = timezone.now()
    deadlines.sweep(now=now)
    entry.refresh_from_db()
    assert entry.deletion_due_at is not None
    told = notices.fill("retention_warning", date=day(entry.deletion_due_at))
    due_line = notices.fill("retention_due", date=day(entry.deletion_due_at))
    assert told == f"Your recording will be deleted on {day(entry.deletion_due_at)}"

    # A co-editor (access, not the owner) is told nothing and sees no date.
    client.force_login(cast.users["coeditor"])
    page = client.get("/my-media/").content.decode()
    assert entry.title in page and told not in page and due_line not in page

    client.force_login(entry.owner)
    first = client.get("/").content.decode()  # any page: the notice area of base.html
    assert told in first and f'href="/media/{entry.pk}/"' in first
    my_media = client.get("/my-media/").content.decode()
    assert told not in my_media  # shown once
    assert due_line in my_media and f'action="/media/{entry.pk}/keep/"' in my_media
    assert due_line in client.get(f"/media/{entry.pk}/").content.decode()  # and on its page, with Keep

    # Keep: the clock restarts; nothing is announced any more, and nothing is binned a week later.
    response = client.post(f"/media/{entry.pk}/keep/", {"next": "/my-media/"})
    assert response.status_code == 302 and response["Location"] == "/my-media/"
    entry.refresh_from_db()
    assert entry.deletion_due_at is None and entry.kept_at is not None
    assert due_line not in client.get("/my-media/").content.decode()
    deadlines.sweep(now=now + 8 * DAY)
    assert not binned(entry)
    # Only the owner (and staff) may keep it.
    client.force_login(cast.users["coeditor"])
    assert client.post(f"/media/{entry.pk}/keep/").status_code == 403


def listings(client, entry: MediaEntry, who) -> dict[str, bool]:
    """Where `who` sees the entry: My Media, the channel tab, the room's Media and Files, the REST API,
    the LTI gallery's selector."""
    client.force_login(who)
    marker = f"/media/{entry.pk}/"
    room = entry.room
    assert room is not None
    found = {
        "my_media": marker in client.get("/my-media/").content.decode(),
        "room": marker in client.get(f"/rooms/{room.pk}/media/?folder={entry.folder_id}").content.decode(),
        "api": entry.pk
        in [
            e["id"]
            for e in client.get(
                "/api/v1/entries/",
                headers={
                    "Authorization": "Bearer " + api_services.issue_token(user=who, name="t", expires_in_days=30).secret
                },
            ).json()["results"]
        ],
        "lti": entry in selectors.room_recordings_page(user=who, room=room).object_list,
    }
    if room.channel is not None:
        found["channel"] = marker in client.get(f"/channels/{room.channel.slug}/media/").content.decode()
    return found


@pytest.mark.django_db
def test_a_binned_entry_vanishes_everywhere_and_comes_back_when_restored(client, cast, publish) -> None:
    entry = publish("channel")
    owner, member, staff = entry.owner, cast.users["member"], cast.users["staffer"]
    token = ShareLink.objects.create(entry=entry, created_by=owner).token
    before = listings(client, entry, owner)
    assert all(before.values()), before
    assert listings(client, entry, member)["channel"]
    own = [f"/media/{entry.pk}/{tail}" for tail in ("", "stream/", "download/", "poster/", "delete/")]
    urls = [*own, f"/s/{token}/", f"/s/{token}/stream/"]

    # The delete page says where it goes; deleting moves it to the bin.
    client.force_login(owner)
    confirm = client.get(f"/media/{entry.pk}/delete/").content.decode()
    assert notices.fill("delete_goes_to_bin", days=30) in confirm and "Move to the recycle bin" in confirm
    response = client.post(f"/media/{entry.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    entry = MediaEntry.all_objects.get(pk=entry.pk)
    assert entry.deleted_by == owner and entry.purge_after is not None
    assert default_storage.exists(entry.file.name)  # restorable: the file stays

    assert not any(listings(client, entry, owner).values())
    assert not listings(client, entry, member)["channel"]
    assert not any(listings(client, entry, staff).values())
    for who in (owner, staff, member, cast.users["coeditor"]):
        client.force_login(who)
        for url in urls:
            assert client.get(url).status_code == 404, (who.username, url)
    client.logout()
    assert client.get(f"/s/{token}/").status_code == 404  # nor to anyone holding its share link

    # The bin: the owner's only. Others neither see it nor restore it (404, as for anything unknown).
    for who in (member, cast.users["coeditor"], cast.users["outsider"], staff):
        client.force_login(who)
        assert f"“{entry.title}”" not in client.get("/my-media/recycle-bin/").content.decode()
        assert entry.title not in client.get("/my-media/recycle-bin/").content.decode()
        if who != staff:
            assert client.post("/my-media/recycle-bin/", {"entry_id": entry.pk}).status_code == 404
    # Staff find it in the admin with the bin filter (not in the default list).
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    admin_list = client.get("/admin/media_library/mediaentry/").content.decode()
    assert f"/admin/media_library/mediaentry/{entry.pk}/change/" not in admin_list
    admin_bin = client.get("/admin/media_library/mediaentry/?bin=in").content.decode()
    assert f"/admin/media_library/mediaentry/{entry.pk}/change/" in admin_bin

    client.force_login(owner)
    bin_page = client.get("/my-media/recycle-bin/").content.decode()
    assert entry.title in bin_page and f"deleted for good on {day(entry.purge_after)}" in bin_page
    assert 'href="/my-media/recycle-bin/"' in client.get("/my-media/").content.decode()
    assert client.post("/my-media/recycle-bin/", {"entry_id": entry.pk}).status_code == 302
    entry = MediaEntry.objects.get(pk=entry.pk)
    assert entry.deleted_at is None and entry.purge_after is None
    assert all(listings(client, entry, owner).values())
    assert client.get(f"/s/{token}/").status_code == 200  # its share link works again
    assert entry.title not in client.get("/my-media/recycle-bin/").content.decode()


@pytest.mark.django_db
def test_the_admin_restores_from_the_bin(client, cast, publish) -> None:
    entry = publish("single")
    services.delete_entry(entry=entry, by=entry.owner)
    staff = cast.users["staffer"]
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(
        "/admin/media_library/mediaentry/?bin=in",
        {"action": "restore_entries", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    assert MediaEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_the_bin_is_purged_after_30_days_with_the_stored_files_once(
    cast, publish, library_settings: Path, django_capture_on_commit_callbacks
) -> None:
    entry = publish("single")
    kept = publish("single")
    names = [entry.file.name, entry.poster.name]
    assert all(names) and all((library_settings / name).is_file() for name in names)
    services.delete_entry(entry=entry, by=entry.owner)
    services.delete_entry(entry=entry, by=entry.owner)  # a double click: one outcome
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=timezone.now() + 29 * DAY)["purged"] == 0
    assert all((library_settings / name).is_file() for name in names)  # still restorable

    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=timezone.now() + 31 * DAY)["purged"] == 1
    assert not MediaEntry.all_objects.filter(pk=entry.pk).exists()
    assert not any((library_settings / name).exists() for name in names)
    # Idempotent: a second sweep, or a purge asked again, finds nothing and changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=timezone.now() + 32 * DAY)["purged"] == 0
        assert services.purge_entry(entry_id=entry.pk) is False
    assert MediaEntry.objects.filter(pk=kept.pk).exists() and default_storage.exists(kept.file.name)
    with pytest.raises(services.LibraryError):
        services.restore_entry(entry=entry)  # gone for good


@pytest.mark.django_db
def test_a_restored_entry_is_not_binned_again_by_the_rule_that_binned_it(settings, cast, publish) -> None:
    settings.RETENTION_DAYS = 30
    entry = aged(publish("single"), 60)
    now = timezone.now()
    deadlines.sweep(now=now)
    deadlines.sweep(now=now + 8 * DAY)
    assert binned(entry)
    services.restore_entry(entry=MediaEntry.all_objects.get(pk=entry.pk))
    deadlines.sweep(now=timezone.now())
    assert not binned(entry)


def test_the_docs_list_each_retention_text_as_the_product_says_it() -> None:
    """docs/notices.md "Retention and the recycle bin" lists each text exactly as media_library/notices.py has it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "notices.md").read_text()
    section = doc.split("## Retention and the recycle bin", 1)[1].split("\n## ", 1)[0]
    listed = dict(line[3:].split("`: ", 1) for line in section.splitlines() if line.startswith("- `"))
    ours = {code: text for code, text in notices.TEXTS.items() if code.startswith(("retention_", "recycle_"))}
    ours |= {code: notices.TEXTS[code] for code in ("moved_to_bin", "delete_goes_to_bin", "restored_from_bin")}
    assert listed == ours
