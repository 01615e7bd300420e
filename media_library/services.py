"""Every write of the media library: publishing recordings, uploads, folders, sharing, deletion.

Services take keyword-only arguments, check what only they can check (names, sizes,
reserved folders), and raise LibraryError with a message safe to show. Access is decided
by media_library.permissions before a service is called.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import tempfile
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from core.tasks import enqueue_on_commit
from media_library import conf, events, permissions, presenting, probe, signals, storage
from media_library.models import (
    ChannelPublication,
    EntryCollaborator,
    Folder,
    MediaEntry,
    RecordingNotice,
    RetentionNotice,
    ShareLink,
)
from meetings import permissions as room_permissions
from meetings.models import CollaboratorRole, PresentationKind, Room, User
from recordings import fragments as recording_fragments
from recordings import services as recording_services
from recordings.models import Recording

logger = logging.getLogger(__name__)

RECORDINGS_FOLDER_NAME = "Recordings"
# Renders an uploaded PDF's pages (media_library.tasks; queued by name: tasks import this module).
PREPARE_PRESENTATION_TASK = "media_library.tasks.prepare_presentation"
TITLE_MAX = 255
FOLDER_NAME_MAX = 200
# A recording is published while processing; publishing an available one again re-verifies it.
PUBLISHABLE_STATES = (Recording.State.PROCESSING, Recording.State.AVAILABLE)


class LibraryError(Exception):
    """A request that cannot be carried out; the message is safe to show to the person."""


class PublishError(Exception):
    """A recording could not be published; the message says why (for the admin and the logs)."""


# --- Publishing a recording ------------------------------------------------------------------------


def recording_title(recording: Recording) -> str:
    """`Rec - <YYYY-MM-DD HH:MM:SS> - <room title>`, the start in the room's time zone (SPEC.md)."""
    started = recording.started_at or recording.created_at
    try:
        zone: dt_timezone | zoneinfo.ZoneInfo = zoneinfo.ZoneInfo(recording.room.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = UTC  # a bad time zone must not block a recording from being published
    stamp = started.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return f"Rec - {stamp} - {recording.room.title}"[:TITLE_MAX]


def recording_storage_names(recording: Recording, *, poster_suffix: str = ".jpg") -> tuple[str, str]:
    """Fixed names per recording: a retried upload replaces, it never adds a copy.

    The uid is random (uuid4), so names stay unguessable like entry_upload_to's.
    """
    base = f"recordings/{recording.uid}"
    return f"{base}/recording.mp4", f"{base}/poster{poster_suffix}"


def ensure_recordings_folder(*, room: Room) -> Folder:
    """The room's one Recordings folder, made on first use; safe against a concurrent maker."""
    folder = Folder.objects.filter(room=room, kind=Folder.Kind.RECORDINGS).first()
    if folder is not None:
        return folder
    # A top-level folder someone named "Recordings" before we existed becomes the Recordings folder.
    adopted = Folder.objects.filter(room=room, parent__isnull=True, name=RECORDINGS_FOLDER_NAME).update(
        kind=Folder.Kind.RECORDINGS
    )
    if adopted:
        return Folder.objects.get(room=room, kind=Folder.Kind.RECORDINGS)
    try:
        with transaction.atomic():
            return Folder.objects.create(room=room, name=RECORDINGS_FOLDER_NAME, kind=Folder.Kind.RECORDINGS)
    except IntegrityError:
        return Folder.objects.get(room=room, kind=Folder.Kind.RECORDINGS)


def _store_recording_file(*, recording: Recording, mp4_path: str) -> tuple[str, int]:
    name, _ = recording_storage_names(recording)
    size = os.path.getsize(mp4_path)
    backend = storage.get_storage()
    # A retry after a crash finds the object already complete (uploads are atomic) and skips it.
    if storage.with_retries(f"checking {name}", lambda: storage.stored_size(backend, name)) == size:
        return name, size
    try:
        storage.put_file(storage=backend, name=name, path=mp4_path, content_type="video/mp4")
    except storage.StorageError as exc:
        raise PublishError(str(exc)) from exc
    return name, size


def _store_poster(*, recording: Recording, mp4_path: str, poster_path: str | None) -> str:
    """The poster's storage name, or "" when none could be made (a poster never blocks a recording)."""
    backend = storage.get_storage()
    try:
        if poster_path and os.path.isfile(poster_path):
            suffix = Path(poster_path).suffix.lower() or ".jpg"
            _, name = recording_storage_names(recording, poster_suffix=suffix)
            content_type = mimetypes.guess_type(poster_path)[0] or "image/jpeg"
            storage.put_file(storage=backend, name=name, path=poster_path, content_type=content_type)
            return name
        _, name = recording_storage_names(recording)
        if storage.stored_size(backend, name):
            return name
        data = probe.poster_jpeg(mp4_path)
        if data is None:
            return ""
        storage.put_bytes(storage=backend, name=name, data=data, content_type="image/jpeg")
        return name
    except (storage.StorageError, OSError):
        logger.exception("no poster stored for recording %s", recording.pk)
        return ""


def _create_missing_notices(*, recording: Recording, entry: MediaEntry, with_access: set[int]) -> list[RecordingNotice]:
    """One notice per person, ever: people already told are not told again on a retry."""
    without_access = room_permissions.leaders_of(recording.room) - with_access
    already = set(RecordingNotice.objects.filter(recording=recording).values_list("user_id", flat=True))
    wanted = [(uid, entry) for uid in sorted(with_access)] + [(uid, None) for uid in sorted(without_access)]
    created: list[RecordingNotice] = []
    for user_id, linked in wanted:
        if user_id in already:
            continue
        created.append(RecordingNotice.objects.create(user_id=user_id, recording=recording, entry=linked))
    return created


def publish_recording(*, recording: Recording, mp4_path: str, poster_path: str | None = None) -> MediaEntry:
    """Store the final MP4, create its MediaEntry with SPEC access, make it available, tell people.

    Idempotent: run it again after a crash at any point and it finishes what is missing,
    with one entry, one stored file, one set of collaborators, publications and notices.
    The long upload runs outside any transaction; the database part runs under the
    recording's row lock, so two concurrent runs give one outcome.
    """
    recording = Recording.objects.select_related("room", "room__channel", "started_by").get(pk=recording.pk)
    if recording.state not in PUBLISHABLE_STATES:
        raise PublishError(f"recording {recording.pk} is {recording.state}; only a processed recording is published")
    if not mp4_path or not os.path.isfile(mp4_path) or os.path.getsize(mp4_path) == 0:
        raise PublishError(f"recording {recording.pk}: no MP4 at {mp4_path!r}")

    file_name, size = _store_recording_file(recording=recording, mp4_path=mp4_path)
    poster_name = _store_poster(recording=recording, mp4_path=mp4_path, poster_path=poster_path)
    info = probe.probe(mp4_path)
    duration = info.duration if info and info.duration else recording.duration

    room = recording.room
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.state not in PUBLISHABLE_STATES:
            raise PublishError(f"recording {recording.pk} became {locked.state} while it was being published")
        access = permissions.recording_access(recording)
        folder = ensure_recordings_folder(room=room)
        # all_objects: a binned entry of this recording is refreshed in the bin, not duplicated.
        entry, created = MediaEntry.all_objects.get_or_create(
            source_recording=recording,
            defaults={
                "title": recording_title(recording),
                "owner_id": access.owner_id,
                "creator_id": access.creator_id,
                "kind": MediaEntry.Kind.VIDEO,
                "status": MediaEntry.Status.READY,
                "content_type": "video/mp4",
                "file": file_name,
                "poster": poster_name,
                "size": size,
                "duration": duration,
                "room": room,
                "folder": folder,
            },
        )
        if not created:
            # A republish refreshes the file facts; title, owner and collaborators may have been
            # edited since, and are left as people set them.
            entry.file.name, entry.size, entry.duration = file_name, size, duration
            entry.poster.name = poster_name or entry.poster.name
            entry.status, entry.content_type = MediaEntry.Status.READY, "video/mp4"
            entry.save(update_fields=["file", "size", "duration", "poster", "status", "content_type", "updated_at"])
        for user_ids, role in (
            (access.co_editor_ids, CollaboratorRole.CO_EDITOR),
            (access.co_publisher_ids, CollaboratorRole.CO_PUBLISHER),
        ):
            for user_id in sorted(user_ids - {entry.owner_id}):
                EntryCollaborator.objects.get_or_create(entry=entry, user_id=user_id, defaults={"role": role})
        if room.kind == Room.Kind.CHANNEL and room.channel_id is not None:
            ChannelPublication.objects.get_or_create(
                channel_id=room.channel_id, entry=entry, defaults={"published_by_id": recording.started_by_id}
            )
        try:
            recording_services.mark_available(recording_id=recording.pk, note=f"published as media entry {entry.pk}")
        except recording_services.RecordingError as exc:
            raise PublishError(str(exc)) from exc
        notices = _create_missing_notices(recording=recording, entry=entry, with_access=set(access.user_ids))
        events.send_recording_available_on_commit(notices)
    logger.info("recording %s published as entry %s (%s bytes)", recording.pk, entry.pk, size)
    return entry


@dataclass(frozen=True)
class PublishOutcome:
    entry: MediaEntry | None
    retry_in: float | None = None  # seconds until the next try, when this one failed


def publish_step(*, recording_id: int) -> PublishOutcome:
    """The publish step under the recording's work claim: one publisher at a time, however delivered.

    Nothing happens if another worker's claim is fresh (a duplicate delivery, a requeue racing a
    slow upload). A failure hands back when to try again, or, after the last try, leaves the
    recording FAILED with the reason (recordings.services.step_failed).
    """
    step = Recording.Step.PUBLISH
    if not recording_services.claim_step(recording_id=recording_id, step=step):
        return PublishOutcome(entry=None)
    recording = Recording.objects.get(pk=recording_id)
    try:
        with (
            recording_services.keep_claim_alive(recording_id=recording_id, step=step),
            recording_fragments.local_output(recording.output_path) as mp4_path,  # S3: fetched to scratch
        ):
            entry = publish_recording(recording=recording, mp4_path=mp4_path)
    except Exception as exc:  # storage down, a missing file, ...: retried, then reported with its reason
        logger.exception("publishing recording %s failed", recording_id)
        return PublishOutcome(
            entry=None, retry_in=recording_services.step_failed(recording_id=recording_id, step=step, error=str(exc))
        )
    return PublishOutcome(entry=entry)


# --- Notices -----------------------------------------------------------------------------------------


def mark_notices_seen(*, user: User, notice_ids: Iterable[int]) -> int:
    ids = list(notice_ids)
    if not ids:
        return 0
    return RecordingNotice.objects.filter(user=user, pk__in=ids, seen_at__isnull=True).update(seen_at=timezone.now())


def mark_retention_notices_seen(*, user: User, notice_ids: Iterable[int]) -> int:
    ids = list(notice_ids)
    if not ids:
        return 0
    return RetentionNotice.objects.filter(user=user, pk__in=ids, seen_at__isnull=True).update(seen_at=timezone.now())


# --- Room Media and Files ------------------------------------------------------------------------------

KIND_BY_MAIN_TYPE = {"video": MediaEntry.Kind.VIDEO, "audio": MediaEntry.Kind.AUDIO, "image": MediaEntry.Kind.IMAGE}
DOCUMENT_TYPES = {
    "application/pdf",
    "application/msword",
    "application/rtf",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.spreadsheet",
}


def guess_content_type(*, filename: str, declared: str | None) -> str:
    # The name is a better witness than the browser's declared type, which any client can set.
    guessed = mimetypes.guess_type(filename)[0]
    declared = (declared or "").split(";")[0].strip().lower()
    if guessed:
        return guessed
    if declared and "/" in declared and len(declared) <= 100:
        return declared
    return "application/octet-stream"


def guess_kind(content_type: str) -> str:
    main = content_type.split("/", 1)[0]
    if main in KIND_BY_MAIN_TYPE:
        return KIND_BY_MAIN_TYPE[main]
    if content_type in DOCUMENT_TYPES or main == "text" or "officedocument" in content_type:
        return MediaEntry.Kind.DOCUMENT
    return MediaEntry.Kind.OTHER


def clean_text(value: str | None) -> str:
    """Collapse whitespace and drop control characters (PostgreSQL refuses NUL in text)."""
    printable = "".join(ch for ch in (value or "") if ch.isprintable() or ch.isspace())
    return " ".join(printable.split())


def _clean_name(value: str | None, *, what: str, limit: int) -> str:
    name = clean_text(value)
    if not name:
        raise LibraryError(f"Please give the {what} a name.")
    if len(name) > limit:
        raise LibraryError(f"The {what} name is too long (at most {limit} characters).")
    return name


def _local_copy_for_probe(uploaded: UploadedFile) -> tuple[str, bool]:
    """A path PyAV can open; (path, is_temporary_copy)."""
    if hasattr(uploaded, "temporary_file_path"):
        return uploaded.temporary_file_path(), False
    suffix = Path(uploaded.name or "").suffix[:10]
    with tempfile.NamedTemporaryFile(prefix="liverec-upload-", suffix=suffix, delete=False) as tmp:
        for chunk in uploaded.chunks():
            tmp.write(chunk)
    uploaded.seek(0)
    return tmp.name, True


def upload_room_file(*, room: Room, user: User, uploaded: UploadedFile, folder: Folder | None) -> MediaEntry:
    """A file into the room's Media and Files, owned by whoever uploaded it."""
    if uploaded.size is None or uploaded.size <= 0:
        raise LibraryError("The file is empty.")
    if uploaded.size > conf.upload_max_bytes():
        raise LibraryError("The file is larger than the upload limit.")
    if folder is not None and (folder.room_id != room.pk or folder.kind == Folder.Kind.RECORDINGS):
        raise LibraryError("Files cannot be uploaded into that folder.")
    original = clean_text(os.path.basename(uploaded.name or "")) or "file"
    filename = get_valid_filename(original)[-120:] or "file"
    content_type = guess_content_type(filename=filename, declared=uploaded.content_type)
    kind = guess_kind(content_type)

    duration: float | None = None
    poster: bytes | None = None
    if kind in (MediaEntry.Kind.VIDEO, MediaEntry.Kind.AUDIO):
        path, temporary = _local_copy_for_probe(uploaded)
        try:
            info = probe.probe(path)
            duration = info.duration if info else None
            if info and info.has_video:
                poster = probe.poster_jpeg(path)
        finally:
            if temporary:
                os.unlink(path)

    entry = MediaEntry(
        title=original[:TITLE_MAX],
        owner=user,
        creator=user,
        kind=kind,
        status=MediaEntry.Status.READY,
        content_type=content_type,
        size=uploaded.size,
        duration=duration,
        room=room,
        folder=folder,
    )
    entry.file.save(filename, uploaded, save=False)
    try:
        if poster:
            entry.poster.save("poster.jpg", ContentFile(poster), save=False)
        entry.save()
    except Exception:
        storage.delete_quietly(entry.file.storage, entry.file.name)
        if entry.poster:
            storage.delete_quietly(entry.poster.storage, entry.poster.name)
        raise
    if presenting.presented_kind(entry) == PresentationKind.PDF:  # ready before anyone presents it
        enqueue_on_commit(PREPARE_PRESENTATION_TASK, entry.pk)
    return entry


def create_folder(*, room: Room, name: str, parent: Folder | None) -> Folder:
    clean = _clean_name(name, what="folder", limit=FOLDER_NAME_MAX)
    if parent is not None and parent.room_id != room.pk:
        raise LibraryError("That folder is not in this room.")
    if parent is None and clean.lower() == RECORDINGS_FOLDER_NAME.lower():
        raise LibraryError("“Recordings” is reserved for the room's recordings.")
    if Folder.objects.filter(room=room, parent=parent, name__iexact=clean).exists():
        raise LibraryError(f"A folder named “{clean}” already exists here.")
    try:
        with transaction.atomic():
            return Folder.objects.create(room=room, parent=parent, name=clean, kind=Folder.Kind.REGULAR)
    except IntegrityError as exc:  # a concurrent create of the same name
        raise LibraryError(f"A folder named “{clean}” already exists here.") from exc


def rename_folder(*, folder: Folder, name: str) -> Folder:
    if folder.kind == Folder.Kind.RECORDINGS:
        raise LibraryError("The Recordings folder cannot be renamed.")
    clean = _clean_name(name, what="folder", limit=FOLDER_NAME_MAX)
    if folder.parent_id is None and clean.lower() == RECORDINGS_FOLDER_NAME.lower():
        raise LibraryError("“Recordings” is reserved for the room's recordings.")
    clash = Folder.objects.filter(room_id=folder.room_id, parent_id=folder.parent_id, name__iexact=clean)
    if clash.exclude(pk=folder.pk).exists():
        raise LibraryError(f"A folder named “{clean}” already exists here.")
    folder.name = clean
    try:
        with transaction.atomic():
            folder.save(update_fields=["name"])
    except IntegrityError as exc:
        raise LibraryError(f"A folder named “{clean}” already exists here.") from exc
    return folder


def delete_folder(*, folder: Folder) -> None:
    if folder.kind == Folder.Kind.RECORDINGS:
        raise LibraryError("The Recordings folder cannot be deleted.")
    # Entries would otherwise fall out of the folder tree silently (folder is SET_NULL).
    if folder.entries.exists() or folder.children.exists():
        raise LibraryError("Only an empty folder can be deleted. Move or delete what is in it first.")
    folder.delete()


# --- Entries ----------------------------------------------------------------------------------------


def rename_entry(*, entry: MediaEntry, title: str) -> MediaEntry:
    entry.title = _clean_name(title, what="entry", limit=TITLE_MAX)
    entry.save(update_fields=["title", "updated_at"])
    return entry


def delete_entry(*, entry: MediaEntry, by: User | None = None) -> MediaEntry:
    """Move the entry to the recycle bin (`by` None: the retention policy did), restorable for
    RECYCLE_BIN_DAYS; the retention sweep purges it after that (purge_entry).

    From now on it is hidden from every list, page, link and the API (MediaEntry.objects hides it).
    `entry_deleted` is announced here, once per entry whatever happens next (decision 0024): the
    entry is gone for everyone with access, which is what a listener acts on.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = MediaEntry.all_objects.select_for_update().filter(pk=entry.pk).first()
        if locked is None or locked.deleted_at is not None:
            return locked or entry  # already binned (a double click) or purged: one outcome
        signals.entry_deleted.send(sender=MediaEntry, entry=locked)
        locked.deleted_at, locked.deleted_by, locked.deletion_due_at = now, by, None
        locked.purge_after = now + timedelta(days=conf.recycle_bin_days())
        locked.save(update_fields=["deleted_at", "deleted_by", "purge_after", "deletion_due_at", "updated_at"])
        RetentionNotice.objects.filter(entry=locked, seen_at__isnull=True).update(seen_at=now)
    entry.deleted_at, entry.deleted_by, entry.purge_after = locked.deleted_at, locked.deleted_by, locked.purge_after
    return locked


def restore_entry(*, entry: MediaEntry) -> MediaEntry:
    """Take the entry out of the recycle bin, as it was (its collaborators, links and listings kept).

    The retention clock restarts (kept_at), or the policy that binned it would bin it again at once.
    """
    with transaction.atomic():
        locked = MediaEntry.all_objects.select_for_update().filter(pk=entry.pk).first()
        if locked is None:
            raise LibraryError("This entry has been deleted for good.")
        if locked.deleted_at is None:
            return locked
        locked.deleted_at, locked.deleted_by, locked.purge_after = None, None, None
        locked.kept_at, locked.deletion_due_at = timezone.now(), None
        locked.save(
            update_fields=["deleted_at", "deleted_by", "purge_after", "kept_at", "deletion_due_at", "updated_at"]
        )
    return locked


def purge_entry(*, entry_id: int) -> bool:
    """Delete a binned entry for good: its row, then (after commit) its stored file and poster.

    Idempotent: an entry already purged, or restored meanwhile, is left alone (False). Concurrent
    sweeps purge each entry once (the row lock; a second one finds nothing).
    """
    with transaction.atomic():
        entry = (
            MediaEntry.all_objects.select_for_update(skip_locked=True)
            .filter(pk=entry_id, deleted_at__isnull=False)
            .first()
        )
        if entry is None:
            return False
        backend = entry.file.storage
        names = [name for name in (entry.file.name, entry.poster.name) if name]

        def delete_files() -> None:
            for name in names:
                storage.delete_quietly(backend, name)

        entry.delete()
        # After commit: a rolled-back purge must not have lost the file.
        transaction.on_commit(delete_files)
    logger.info("entry %s purged from the recycle bin", entry_id)
    return True


def keep_entry(*, entry: MediaEntry) -> MediaEntry:
    """The owner keeps an entry the retention policy was about to delete: its clock restarts now."""
    with transaction.atomic():
        MediaEntry.objects.filter(pk=entry.pk).update(kept_at=timezone.now(), deletion_due_at=None)
        RetentionNotice.objects.filter(entry=entry, seen_at__isnull=True).update(seen_at=timezone.now())
    entry.refresh_from_db(fields=["kept_at", "deletion_due_at"])
    return entry


def note_view(*, entry: MediaEntry) -> None:
    """Someone with access watched, downloaded or opened the entry: one UPDATE at most an hour.

    Checked on the row already loaded, so a stream's many Range requests cost no write.
    """
    now = timezone.now()
    precision = timedelta(seconds=conf.LAST_VIEW_PRECISION_SECONDS)
    if entry.last_viewed_at is not None and now - entry.last_viewed_at < precision:
        return
    # A queryset update: no updated_at bump, no race with a save of other fields.
    MediaEntry.objects.filter(pk=entry.pk).filter(
        Q(last_viewed_at__isnull=True) | Q(last_viewed_at__lt=now - precision)
    ).update(last_viewed_at=now)
    entry.last_viewed_at = now


def add_collaborator(*, entry: MediaEntry, username: str, role: str) -> EntryCollaborator:
    username = clean_text(username)
    if role not in CollaboratorRole.values:
        raise LibraryError("Choose co-editor, co-publisher or co-viewer.")
    if not username or len(username) > 150:
        raise LibraryError("Please give a username.")
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise LibraryError(f"There is no user named “{username}”.")
    if user.pk == entry.owner_id:
        raise LibraryError(f"{user.label} owns this entry already.")
    collaborator, created = EntryCollaborator.objects.get_or_create(entry=entry, user=user, defaults={"role": role})
    if not created and collaborator.role != role:
        collaborator.role = role
        collaborator.save(update_fields=["role"])
    return collaborator


def remove_collaborator(*, entry: MediaEntry, user_id: int) -> None:
    deleted, _ = EntryCollaborator.objects.filter(entry=entry, user_id=user_id).delete()
    if not deleted:
        raise LibraryError("That person is not a collaborator on this entry.")


SHARE_EXPIRY_DAYS = (0, 1, 7, 30, 90)  # 0: until revoked


def create_share_link(*, entry: MediaEntry, by: User, expires_in_days: int) -> ShareLink:
    if expires_in_days not in SHARE_EXPIRY_DAYS:
        raise LibraryError("Choose how long the link should work.")
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    return ShareLink.objects.create(entry=entry, created_by=by, expires_at=expires_at)


def revoke_share_link(*, entry: MediaEntry, link_id: int) -> ShareLink:
    link = ShareLink.objects.filter(entry=entry, pk=link_id).first()
    if link is None:
        raise LibraryError("There is no such share link on this entry.")
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def reassign_owner(*, entry: MediaEntry, new_owner: User) -> MediaEntry:
    """Hand an entry to someone else (admin console). The new owner stops being a mere collaborator."""
    if not new_owner.is_active:
        raise LibraryError(f"{new_owner.username} is not an active user.")
    with transaction.atomic():
        EntryCollaborator.objects.filter(entry=entry, user=new_owner).delete()
        entry.owner = new_owner
        entry.save(update_fields=["owner", "updated_at"])
    return entry


def entry_disposition_name(entry: MediaEntry) -> str:
    """A download name from the title, keeping the stored file's extension."""
    suffix = Path(entry.file.name or "").suffix
    base = entry.title.strip() or "download"
    if suffix and not base.lower().endswith(suffix.lower()):
        base += suffix
    return base.replace("/", "-").replace("\\", "-")
