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

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "media entries"
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="entry_owner_newest"),
            models.Index(fields=["folder", "-created_at"], name="entry_folder_newest"),
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
