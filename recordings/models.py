"""A recording and the media it is made of: tracks, segments and composed fragments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class RecordingQuerySet(models.QuerySet["Recording"]):
    """The state sets, named once: callers never spell out a list of states."""

    def active(self) -> RecordingQuerySet:
        """Capture under way or just stopped (at most one per room: a DB constraint)."""
        return self.filter(state__in=Recording.ACTIVE_STATES)

    def capturing(self) -> RecordingQuerySet:
        """Browsers are (or are about to be) uploading media."""
        return self.filter(state__in=Recording.CAPTURING_STATES)

    def stopping(self) -> RecordingQuerySet:
        return self.filter(state=Recording.State.STOPPING)

    def processing(self) -> RecordingQuerySet:
        return self.filter(state=Recording.State.PROCESSING)

    def held(self) -> RecordingQuerySet:
        """Broadcast recordings, processed, waiting for their room to be closed."""
        return self.filter(state=Recording.State.HELD)

    def in_progress(self) -> RecordingQuerySet:
        """Not yet a file people can open, and not failed."""
        return self.filter(state__in=(*Recording.ACTIVE_STATES, Recording.State.PROCESSING, Recording.State.HELD))

    def not_published(self) -> RecordingQuerySet:
        """In progress or failed: what My Media shows above the entries, with the state or the reason."""
        return self.exclude(state=Recording.State.AVAILABLE)


class Recording(models.Model):
    """A state machine; its state changes only in recordings.services (TRANSITIONS), inside a transaction."""

    class State(models.TextChoices):
        STARTING = "starting", "Starting"
        RECORDING = "recording", "Recording"
        STOPPING = "stopping", "Stopping"
        PROCESSING = "processing", "Processing"
        AVAILABLE = "available", "Available"
        FAILED = "failed", "Failed"
        HELD = "held", "Held until the room closes"

    class Step(models.TextChoices):
        """The long steps after capture; each runs under a claim with a heartbeat."""

        FINALIZE = "finalize", "Finalize (compose and assemble)"
        PUBLISH = "publish", "Publish (store and list)"

    class StopReason(models.TextChoices):
        STOPPED_BY_HOST = "stopped_by_host", "Stopped by a host"
        HOST_LEFT = "host_left", "Host left"
        RECORDING_CAP = "recording_cap", "24-hour limit"
        SESSION_ENDED = "session_ended", "Session ended"
        ERROR = "error", "Error"

    # The states in which capture is under way: at most one per room (DB constraint).
    ACTIVE_STATES = (State.STARTING, State.RECORDING, State.STOPPING)
    CAPTURING_STATES = (State.STARTING, State.RECORDING)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    room = models.ForeignKey("meetings.Room", on_delete=models.CASCADE, related_name="recordings")
    session = models.ForeignKey("meetings.LiveSession", on_delete=models.CASCADE, related_name="recordings")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="started_recordings"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTING)
    stop_reason = models.CharField(max_length=32, choices=StopReason.choices, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="stopped_recordings"
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When a host confirmed Start.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the first media reached the server.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)
    cap_deadline = models.DateTimeField(help_text="The 24-hour limit, as a deadline.")
    first_media_deadline = models.DateTimeField(help_text="Fails if no media has arrived by then.")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds on the recording timeline.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Processing progress, percent.")
    error = models.TextField(blank=True)
    output_path = models.CharField(
        max_length=500, blank=True, help_text="The verified final MP4 in the fragment store (a path, or s3://...)."
    )
    media_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its segments and fragments were removed, after publishing."
    )
    # The work claim (recordings.services.claim_step): which long step is due or running, when it
    # is due, and the heartbeat of the worker running it; a stale heartbeat is taken over.
    work_step = models.CharField(max_length=16, choices=Step.choices, blank=True)
    work_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the step was queued (or will be retried)."
    )
    work_heartbeat = models.DateTimeField(
        null=True, blank=True, help_text="Refreshed by the worker running the step; a stale one is taken over."
    )
    work_attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries of the current step.")
    windows_scheduled = models.PositiveIntegerField(
        default=0, help_text="Composition windows created so far (ingest and the sweep both schedule them)."
    )
    # Pause and resume (docs/decisions/0022): the state stays "recording"; `paused_at` is set while
    # paused, `paused_seconds` sums the pauses that ended, and RecordingPause keeps each span for
    # composition, which cuts them out of the output timeline.
    paused_at = models.DateTimeField(null=True, blank=True, help_text="Set while the recording is paused.")
    paused_seconds = models.FloatField(default=0.0, help_text="Total length of the pauses that ended (s).")
    consent_required = models.BooleanField(
        default=False,
        help_text="The room asked for consent when this recording started: only people who agreed are recorded.",
    )

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(state__in=["starting", "recording", "stopping"]),
                name="recording_one_active_per_room",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=["starting", "recording", "stopping", "processing", "available", "failed", "held"]
                ),
                name="recording_state_valid",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="recording_progress_percent"),
        ]
        indexes = [
            models.Index(fields=["state", "cap_deadline"], name="recording_state_cap"),
        ]

    def __str__(self) -> str:
        return f"Recording {self.pk} of {self.room} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES


class RecordingPause(models.Model):
    """One paused span of a recording: its media is cut out of the final file (decision 0022)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="pauses")
    paused_at = models.DateTimeField()
    resumed_at = models.DateTimeField(null=True, blank=True, help_text="Empty while paused (or stopped paused).")
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["recording", "paused_at", "pk"]
        constraints = [
            # At most one open pause per recording: a second pause is refused by the row lock, this
            # is the last line.
            models.UniqueConstraint(
                fields=["recording"], condition=Q(resumed_at__isnull=True), name="recording_pause_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Pause of recording {self.recording_id} at {self.paused_at:%H:%M:%S}"


class RecordingTransition(models.Model):
    """State history, for operators: who or what moved a recording and when."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state}"


class Track(models.Model):
    """One participant's camera and microphone, or screen share, within a recording."""

    class Kind(models.TextChoices):
        CAMERA = "camera", "Camera and microphone"
        SCREEN = "screen", "Screen share"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="tracks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tracks")
    client_id = models.CharField(max_length=64, help_text="The browser's id for this track.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    clock_offset = models.FloatField(
        default=0.0,
        help_text="Server minus browser clock (s) when the track began; places its segments on the timeline.",
    )
    ended = models.BooleanField(default=False, help_text="The browser sent this track's last segment.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recording", "client_id"], name="track_client_id_unique"),
            models.CheckConstraint(condition=Q(kind__in=["camera", "screen"]), name="track_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user}"


class Segment(models.Model):
    """A self-contained WebM piece of a track, durable in the spool before it is acknowledged."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="segments")
    seq = models.PositiveIntegerField()
    path = models.CharField(max_length=500, help_text="Relative to the spool.")
    size = models.PositiveBigIntegerField()
    start = models.FloatField(help_text="Seconds on the recording timeline (server clock).")
    duration = models.FloatField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["track", "seq"]
        constraints = [models.UniqueConstraint(fields=["track", "seq"], name="segment_track_seq_unique")]
        indexes = [models.Index(fields=["track", "start"], name="segment_track_start")]

    def __str__(self) -> str:
        return f"Segment {self.seq} of track {self.track_id}"


class Fragment(models.Model):
    """A composed window of the timeline: an H.264 piece of the final video."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="fragments")
    index = models.PositiveIntegerField()
    start = models.FloatField()
    end = models.FloatField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    path = models.CharField(max_length=500, blank=True, help_text="Where the fragment store keeps it.")
    report = models.JSONField(default=dict, blank=True)
    composed_at = models.DateTimeField(null=True, blank=True)
    # Which worker composed it (Celery node name, or host:pid): windows spread over workers that share no disk.
    composed_by = models.CharField(max_length=200, blank=True)
    # Its compose task: when it was queued, and the heartbeat of the worker composing it. A pending
    # window whose task was lost (a killed worker, Redis restarted) is queued again by the sweep.
    queued_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recording", "index"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "index"], name="fragment_recording_index_unique"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="fragment_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"Fragment {self.index} of recording {self.recording_id}"


class ConsentAnswer(models.Model):
    """One person's answer to "may we record you?" for one recording: the last answer, with its history.

    Ingest accepts a person's media only while their answer is "agree" (recordings.asgi); no row means
    no answer yet, which counts as declining.
    """

    class Answer(models.TextChoices):
        AGREE = "agree", "Agreed"
        DECLINE = "decline", "Declined"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="consent_answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_answers")
    answer = models.CharField(max_length=8, choices=Answer.choices)
    answered_at = models.DateTimeField(help_text="When the current answer was given.")
    first_answered_at = models.DateTimeField(help_text="When this person first answered for this recording.")
    history = models.JSONField(
        default=list, blank=True, help_text='Every answer in order: [{"answer": ..., "at": ISO time}].'
    )

    class Meta:
        ordering = ["recording", "first_answered_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "user"], name="consent_answer_one_per_person"),
            models.CheckConstraint(condition=Q(answer__in=["agree", "decline"]), name="consent_answer_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_answer_display().lower()} for recording {self.recording_id}"
