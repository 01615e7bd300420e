"""Media entries, their collaborators, a room's Media and Files, channel publications, share links."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from meetings.models import CollaboratorRole


def entry_upload_to(instance: MediaEntry, filename: str) -> str:
    # A random directory keeps names unguessable and lets two files share a name.
    return f"entries/{timezone.now():%Y/%m}/{secrets.token_hex(8)}/{filename}"


def poster_upload_to(instance: MediaEntry, filename: str) -> str:
    return f"posters/{secrets.token_hex(8)}/{filename}"


class Folder(models.Model):
    """A folder of a room's Media and Files; every room has one Recordings folder."""

    class Kind(models.TextChoices):
        RECORDINGS = "recordings", "Recordings"
        REGULAR = "regular", "Folder"

    room = models.ForeignKey("meetings.Room", on_delete=models.CASCADE, related_name="folders")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "parent", "name"], name="folder_name_unique_in_parent"),
            models.UniqueConstraint(
                fields=["room", "name"], condition=Q(parent__isnull=True), name="folder_top_name_unique"
            ),
            models.UniqueConstraint(
                fields=["room"], condition=Q(kind="recordings"), name="folder_one_recordings_per_room"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} / {self.name}"


class LiveEntryManager(models.Manager["MediaEntry"]):
    """Entries outside the recycle bin: the default manager, so every list, page, link and edge hides
    binned entries without having to remember to (the bin's own reads use `MediaEntry.all_objects`).

    Foreign keys to an entry (a notice's `entry`, a recording's `entry`) still reach a binned one:
    Django follows them with the plain base manager.
    """

    def get_queryset(self) -> models.QuerySet[MediaEntry]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class MediaEntry(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        IMAGE = "image", "Image"
        DOCUMENT = "document", "Document"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_entries")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VIDEO)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    file = models.FileField(upload_to=entry_upload_to, max_length=500, blank=True)
    poster = models.FileField(upload_to=poster_upload_to, max_length=500, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bytes.")
    source_recording = models.OneToOneField(
        "recordings.Recording", on_delete=models.SET_NULL, null=True, blank=True, related_name="entry"
    )
    room = models.ForeignKey(
        "meetings.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entries",
        help_text="The room whose Media and Files hold this entry.",
    )
    folder = models.ForeignKey(Folder, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Retention (docs/decisions/0024): the last view (stream, download, page) at most once an hour,
    # the owner's "Keep" (the policy's clock restarts from it), the deletion date the owner was told.
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    kept_at = models.DateTimeField(null=True, blank=True, help_text="The owner chose to keep it: retention restarts.")
    deletion_due_at = models.DateTimeField(
        null=True, blank=True, help_text="The retention policy deletes it then (the owner was told 7 days before)."
    )
    # The recycle bin: a binned entry is hidden everywhere but the bin, and purged after purge_after.
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="In the recycle bin since.")
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="binned_entries",
        help_text="Empty when the retention policy deleted it.",
    )
    purge_after = models.DateTimeField(null=True, blank=True, help_text="Deleted for good after this.")

    # Both named explicitly: Meta.default_manager_name makes `objects` (the bin hidden) the default.
    all_objects = models.Manager()
    objects = LiveEntryManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "media entries"
        default_manager_name = "objects"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="entry_owner_newest"),
            models.Index(fields=["folder", "-created_at"], name="entry_folder_newest"),
            models.Index(fields=["purge_after"], condition=Q(deleted_at__isnull=False), name="entry_binned_purge"),
            models.Index(
                fields=["owner", "-deleted_at"], condition=Q(deleted_at__isnull=False), name="entry_bin_owner"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["video", "audio", "image", "document", "other"]), name="entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["processing", "ready", "failed"]), name="entry_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def in_bin(self) -> bool:
        return self.deleted_at is not None


class EntryCollaborator(models.Model):
    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entry_collaborations")
    role = models.CharField(max_length=16, choices=CollaboratorRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "user"], name="entry_collaborator_unique"),
            models.CheckConstraint(condition=Q(role__in=CollaboratorRole.values), name="entry_collaborator_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "entry"], name="entry_collab_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.entry}"


class ChannelPublication(models.Model):
    """An entry listed on a channel's Media tab."""

    channel = models.ForeignKey("meetings.Channel", on_delete=models.CASCADE, related_name="publications")
    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="publications")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "entry"], name="publication_unique")]

    def __str__(self) -> str:
        return f"{self.entry} in {self.channel}"


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


class ShareLink(models.Model):
    """Anyone holding the token may watch the entry until it is revoked or expires."""

    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Share link for {self.entry}"


class RecordingNotice(models.Model):
    """The "your recording file is available" notice of one person, kept until they have seen it (next page load)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recording_notices")
    recording = models.ForeignKey("recordings.Recording", on_delete=models.CASCADE, related_name="notices")
    entry = models.ForeignKey(
        MediaEntry,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        help_text="Empty when the person may not open the file (told only that it exists).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "recording"], name="notice_one_per_user_recording")]
        indexes = [models.Index(fields=["user"], condition=Q(seen_at__isnull=True), name="notice_unseen")]

    def __str__(self) -> str:
        return f"Notice to {self.user} for recording {self.recording_id}"


class RetentionPolicy(models.Model):
    """A room's or a channel's own retention, instead of the site's (settings RETENTION_DAYS, RETENTION_BASIS).

    The room's policy wins over its channel's, which wins over the site's. Empty days: keep forever.
    """

    class Basis(models.TextChoices):
        CREATED = "created", "After creation"
        LAST_VIEWED = "last_viewed", "After the last view"

    room = models.OneToOneField(
        "meetings.Room", on_delete=models.CASCADE, null=True, blank=True, related_name="retention_policy"
    )
    channel = models.OneToOneField(
        "meetings.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="retention_policy"
    )
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Recordings go to the recycle bin this many days after the basis. Empty: keep."
    )
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.CREATED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [
            # Exactly one of room and channel: a policy overrides one place.
            models.CheckConstraint(
                condition=(Q(room__isnull=False) & Q(channel__isnull=True))
                | (Q(room__isnull=True) & Q(channel__isnull=False)),
                name="retention_policy_one_place",
            ),
            models.CheckConstraint(condition=Q(basis__in=["created", "last_viewed"]), name="retention_basis_valid"),
        ]

    def __str__(self) -> str:
        where = f"room {self.room}" if self.room_id else f"channel {self.channel}"
        rule = f"{self.days} days {self.get_basis_display().lower()}" if self.days else "keep"
        return f"Retention of {where}: {rule}"


class RetentionNotice(models.Model):
    """ "Will be deleted on <date>": told to the owner on their next page load, once per announced date."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="retention_notices")
    entry = models.ForeignKey(MediaEntry, on_delete=models.CASCADE, related_name="retention_notices")
    deletion_due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "deletion_due_at"], name="retention_notice_once_per_date")
        ]
        indexes = [models.Index(fields=["user"], condition=Q(seen_at__isnull=True), name="retention_notice_unseen")]

    def __str__(self) -> str:
        return f"Retention notice to {self.user} for entry {self.entry_id}"
