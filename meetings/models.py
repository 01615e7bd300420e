"""People, channels, rooms and their live sessions (SPEC.md "People and roles")."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """The site's person. Custom from the start so profile fields never need a data move."""

    display_name = models.CharField(max_length=150, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def label(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class ChannelRole(models.TextChoices):
    MEMBER = "member", "Member"
    CONTRIBUTOR = "contributor", "Contributor"
    MODERATOR = "moderator", "Moderator"
    MANAGER = "manager", "Manager"


class Channel(models.Model):
    """A category of media with members; it has one live room of its own."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_channels")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ChannelMembership", related_name="channels", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChannelMembership(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_memberships")
    role = models.CharField(max_length=16, choices=ChannelRole.choices, default=ChannelRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="channel_membership_unique"),
            models.CheckConstraint(condition=Q(role__in=ChannelRole.values), name="channel_membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.channel} ({self.role})"


def recording_consent_default() -> bool:
    """A new room's consent setting: the site's default (settings.RECORDING_CONSENT_DEFAULT)."""
    return bool(getattr(settings, "RECORDING_CONSENT_DEFAULT", False))


class Room(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "Single room"
        CHANNEL = "channel", "Channel room"

    class Origin(models.TextChoices):
        NATIVE = "native", "Native"
        INTEGRATION = "integration", "External integration"

    class Mode(models.TextChoices):
        INTERACTIVE = "interactive", "Interactive"
        BROADCAST = "broadcast", "Live broadcast"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    channel = models.OneToOneField(
        Channel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="room",
        help_text="Set for a channel room only.",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_rooms")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_rooms")
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.NATIVE)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.INTERACTIVE)
    max_session_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text="Longest a live session of this room may last (1 to 72 hours).",
    )
    time_zone = models.CharField(max_length=64, default="UTC", help_text="Used to name recordings.")
    ask_recording_consent = models.BooleanField(
        "ask for consent to be recorded",
        default=recording_consent_default,
        help_text="When a recording starts, and when someone joins while it runs, each participant is asked; "
        "only those who agree are recorded.",
    )
    record_automatically = models.BooleanField(
        "record automatically",
        default=False,
        help_text="A recording starts when the first host or moderator joins and stops when the session ends.",
    )
    moderators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="moderated_rooms", blank=True)
    invitees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="invited_rooms",
        blank=True,
        help_text="Participants who may join a single room.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_session_hours__gte=1, max_session_hours__lte=72), name="room_max_session_hours_1_72"
            ),
            models.CheckConstraint(
                condition=(Q(kind="channel", channel__isnull=False) | Q(kind="single", channel__isnull=True)),
                name="room_channel_iff_channel_kind",
            ),
            models.CheckConstraint(condition=Q(origin__in=["native", "integration"]), name="room_origin_valid"),
            models.CheckConstraint(condition=Q(mode__in=["interactive", "broadcast"]), name="room_mode_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class CollaboratorRole(models.TextChoices):
    """Entry collaborators, on rooms and on media entries alike."""

    CO_EDITOR = "co_editor", "Co-editor"
    CO_PUBLISHER = "co_publisher", "Co-publisher"
    CO_VIEWER = "co_viewer", "Co-viewer"


class RoomCollaborator(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_collaborations")
    role = models.CharField(max_length=16, choices=CollaboratorRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_collaborator_unique"),
            models.CheckConstraint(condition=Q(role__in=CollaboratorRole.values), name="room_collaborator_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.room}"


class SessionRole(models.TextChoices):
    HOST = "host", "Host"
    MODERATOR = "moderator", "Moderator"
    PARTICIPANT = "participant", "Participant"


class LiveSessionQuerySet(models.QuerySet["LiveSession"]):
    """The session states, named once."""

    def open(self) -> LiveSessionQuerySet:
        """Preview or live: people are (or may be) in the room."""
        return self.exclude(state=LiveSession.State.ENDED)

    def ended(self) -> LiveSessionQuerySet:
        return self.filter(state=LiveSession.State.ENDED)


class LiveSession(models.Model):
    """One run of a room, from the first join until it ends; its state changes only in meetings.services."""

    class State(models.TextChoices):
        PREVIEW = "preview", "Preview"  # broadcast rooms before going live
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        ENDED_BY_HOST = "ended_by_host", "Ended by a host"
        HOST_LEFT = "host_left", "Host left (time-out)"
        SESSION_CAP = "session_cap", "Session length limit"
        ROOM_CLOSED = "room_closed", "Room closed"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    state = models.CharField(max_length=16, choices=State.choices, default=State.LIVE)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    room_closed = models.BooleanField(default=False, help_text="Broadcast: the host closed the room completely.")
    host_left_deadline = models.DateTimeField(
        null=True, blank=True, help_text="Set while no host or moderator is present; the session ends then."
    )
    max_end_at = models.DateTimeField(help_text="The room's session length limit, as a deadline.")

    objects = LiveSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"], condition=~Q(state="ended"), name="live_session_one_open_per_room"
            ),
            models.CheckConstraint(
                condition=Q(state="ended", ended_at__isnull=False) | (~Q(state="ended") & Q(ended_at__isnull=True)),
                name="live_session_ended_at_iff_ended",
            ),
        ]
        indexes = [
            models.Index(
                fields=["host_left_deadline"],
                condition=Q(host_left_deadline__isnull=False),
                name="session_host_left_due",
            ),
            models.Index(fields=["max_end_at"], condition=~Q(state="ended"), name="session_max_end_due"),
        ]

    def __str__(self) -> str:
        return f"{self.room} session {self.pk} ({self.state})"


class Speaker(models.Model):
    """A participant a host or moderator invited to speak in a live broadcast (SPEC "The live meeting"):
    for this session they send camera, microphone and screen as hosts and moderators do. Invited and
    taken back only through meetings.services (the room's sockets hear of it there)."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="speakers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invited_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="speaker_once_per_session")]

    def __str__(self) -> str:
        return f"{self.user} speaks in session {self.session_id}"


class Presence(models.Model):
    """One open socket of one person in a live session; refreshed by heartbeat, it expires."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presences")
    channel_name = models.CharField(max_length=200, unique=True)
    role = models.CharField(max_length=16, choices=SessionRole.choices)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    clock_offset = models.FloatField(
        null=True, blank=True, help_text="Server clock minus this browser's clock, seconds, measured by the server."
    )
    clock_rtt = models.FloatField(null=True, blank=True, help_text="Round trip of the best clock probe, seconds.")

    class Meta:
        indexes = [models.Index(fields=["session", "last_seen"], name="presence_session_seen")]

    def __str__(self) -> str:
        return f"{self.user} in {self.session_id} ({self.role})"


class PresentationKind(models.TextChoices):
    IMAGE = "image", "Image"
    PDF = "pdf", "PDF"
    VIDEO = "video", "Video"


class Presentation(models.Model):
    """An item of the room's Media and Files on the stage of a live session, from start to end.

    entry_id is a plain integer (no foreign key): meetings sits below media_library. source / pages are names in
    default_storage, copied at start so the recording's compositor can draw them without asking media_library.
    """

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="presentations")
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="presentations"
    )
    kind = models.CharField(max_length=8, choices=PresentationKind.choices)
    entry_id = models.PositiveBigIntegerField(help_text="The media_library entry presented.")
    title = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=500, blank=True, help_text="Storage name of the image or video; '' for PDF.")
    pages = models.JSONField(default=list, blank=True, help_text="Storage names of the rendered PDF pages (PNG).")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PresentationKind.values), name="presentation_kind_valid"),
            models.UniqueConstraint(
                fields=["session"], condition=Q(ended_at__isnull=True), name="presentation_one_open_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entry_id} in session {self.session_id}"


class PresentationEvent(models.Model):
    """What the stage showed from `at` on: a PDF page, or a video position (seconds at `at`) and whether it plays."""

    presentation = models.ForeignKey(Presentation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(help_text="Server clock.")
    page = models.PositiveIntegerField(null=True, blank=True, help_text="1-based PDF page.")
    position = models.FloatField(null=True, blank=True, help_text="Video position in seconds at `at`.")
    playing = models.BooleanField(default=False, help_text="The video advances from `at`.")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["presentation", "at"], name="presentation_event_at")]

    def __str__(self) -> str:
        return f"presentation {self.presentation_id} at {self.at}"
