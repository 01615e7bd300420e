from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from core.admin import ReadOnlyInline
from recordings import fragments, pipeline, services
from recordings.consent_report import answers_of, consent_csv
from recordings.models import (
    ConsentAnswer,
    Fragment,
    Recording,
    RecordingPause,
    RecordingTransition,
    Segment,
    Track,
)
from recordings.templatetags import units

# State is moved only by services (a state machine); the admin shows it and never edits it.
RECORDING_MACHINE_FIELDS = (
    "uid",
    "state",
    "stop_reason",
    "stopped_by",
    "created_at",
    "started_at",
    "stopped_at",
    "processed_at",
    "available_at",
    "duration_display",
    "progress",
    "error",
    "output_path",
    "work_step",
    "work_due_at",
    "work_heartbeat",
    "work_attempts",
)


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ("user", "kind", "client_id", "created_at")
    readonly_fields = fields
    show_change_link = True


class FragmentInline(admin.TabularInline):
    model = Fragment
    extra = 0
    fields = ("index", "start", "end", "state", "composed_at")
    readonly_fields = fields


class ConsentAnswerInline(ReadOnlyInline):
    """Who agreed or declined to be recorded (issue 12); answers are given in the room, never here."""

    model = ConsentAnswer
    fields = ("user", "answer", "answered_at", "first_answered_at", "answers_given")
    verbose_name = "consent answer"

    @admin.display(description="Answers given")
    def answers_given(self, obj: ConsentAnswer) -> int:
        return len(obj.history)


def consent_report_response(answers: QuerySet[ConsentAnswer], name: str) -> HttpResponse:
    response = HttpResponse(consent_csv(answers), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


class PauseInline(ReadOnlyInline):
    """The paused spans cut out of the file (decision 0022): facts of the meeting, read-only."""

    model = RecordingPause
    fields = ("paused_at", "resumed_at", "paused_by")


class TransitionInline(ReadOnlyInline):
    model = RecordingTransition
    fields = ("at", "from_state", "to_state", "note")


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "room",
        "state",
        "duration_display",  # early: with the admin's side bars at 1280 px, the last columns scroll out of view
        "progress_bar",
        "started_by",
        "stop_reason",
        "created_at",
        "short_error",
    )
    list_filter = ("state", "stop_reason", "room__kind", "room__mode")
    search_fields = ("room__title", "started_by__username", "uid", "error")
    date_hierarchy = "created_at"
    autocomplete_fields = ("room", "session", "started_by")
    readonly_fields = RECORDING_MACHINE_FIELDS
    exclude = ("duration",)  # shown readable (duration_display) and, as all machine fields, never edited
    inlines = [TrackInline, ConsentAnswerInline, PauseInline, FragmentInline, TransitionInline]

    actions = ["retry_from_segments", "retry_publishing", "publish_held", "consent_report"]

    @admin.action(description="Download the consent report (CSV)", permissions=["view"])
    def consent_report(self, request: HttpRequest, queryset: QuerySet[Recording]) -> HttpResponse:
        return consent_report_response(answers_of(queryset), "consent-report")

    @admin.display(description="Duration", ordering="duration")
    def duration_display(self, obj: Recording) -> str:
        return units.duration(obj.duration) or "–"

    @admin.display(description="Error")
    def short_error(self, obj: Recording) -> str:
        return (obj.error[:80] + "...") if len(obj.error) > 80 else obj.error

    @admin.display(description="Progress", ordering="progress")
    def progress_bar(self, obj: Recording) -> str:
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%', obj.progress, obj.progress, obj.progress
        )

    def _report(self, request: HttpRequest, done: int, skipped: int, *, did: str, why_skipped: str) -> None:
        if done:
            self.message_user(request, f"{did}: {done} recording(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} recording(s) skipped: {why_skipped}", messages.WARNING)

    @admin.action(description="Retry processing from the stored segments", permissions=["change"])
    def retry_from_segments(self, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
        selected = list(queryset)  # read before retrying: the list may be filtered by state
        retried = [rec for rec in selected if pipeline.retry_from_segments(rec) is not None]
        skipped = [rec for rec in selected if rec not in retried]
        removed = sum(1 for rec in skipped if rec.media_removed_at is not None)  # refreshed by the retry
        self._report(request, len(retried), len(skipped) - removed, did="Processing again",
                     why_skipped="only failed, available or held recordings can be processed again.")  # fmt: skip
        if removed:
            self.message_user(
                request,
                f"{removed} recording(s) skipped: their segments were removed after publishing (the retention "
                "rule); the published file is all that is left of them.",
                messages.WARNING,
            )

    @admin.action(description="Retry publishing (failed, stuck or available recordings)", permissions=["change"])
    def retry_publishing(self, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
        selected = list(queryset.values_list("pk", "output_path"))
        retried = [
            pk for pk, path in selected
            if fragments.output_exists(path) and services.retry_publishing(recording_id=pk) is not None
        ]  # fmt: skip
        self._report(request, len(retried), len(selected) - len(retried), did="Publishing queued",
                     why_skipped="their composed MP4 is missing (retry from the segments instead), "
                     "or they are still recording or held.")  # fmt: skip

    @admin.action(description="Publish held broadcast recordings (treat their room as closed)", permissions=["change"])
    def publish_held(self, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
        selected = list(queryset.values_list("pk", "state"))  # before releasing: the list may be filtered
        held = [pk for pk, state in selected if state == Recording.State.HELD]
        released = services.publish_held_as_closed(recording_ids=held)
        if released:
            self.message_user(request, f"Publishing {len(released)} held recording(s).", messages.SUCCESS)
        skipped = len(selected) - len(held)
        if skipped:
            self.message_user(
                request, f"{skipped} recording(s) skipped: only held recordings are published this way.",
                messages.WARNING,
            )  # fmt: skip


@admin.register(RecordingPause)
class RecordingPauseAdmin(admin.ModelAdmin):
    """Pauses are made by hosts in the room, never by staff: listed for support, read-only."""

    list_display = ("recording", "paused_at", "resumed_at", "paused_by")
    search_fields = ("recording__room__title",)
    readonly_fields = ("recording", "paused_at", "resumed_at", "paused_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RecordingPause | None = None) -> bool:
        return False


@admin.register(RecordingTransition)
class RecordingTransitionAdmin(admin.ModelAdmin):
    list_display = ("recording", "from_state", "to_state", "at", "note")
    list_filter = ("to_state",)
    search_fields = ("recording__room__title", "note")
    readonly_fields = ("at",)


class SegmentSize:
    """A segment's size readable ("412.3 KB"), sorted on the byte count."""

    @admin.display(description="Size", ordering="size")
    def size_display(self, obj: Segment) -> str:
        return units.size(obj.size)


class SegmentInline(SegmentSize, admin.TabularInline):
    model = Segment
    extra = 0
    fields = ("seq", "start", "duration", "size_display", "path", "received_at")
    readonly_fields = fields


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "user", "kind", "client_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("recording__room__title", "user__username", "client_id")
    autocomplete_fields = ("recording", "user")
    inlines = [SegmentInline]


@admin.register(Segment)
class SegmentAdmin(SegmentSize, admin.ModelAdmin):
    list_display = ("pk", "track", "seq", "start", "duration", "size_display", "received_at")
    search_fields = ("track__recording__room__title", "path", "sha256")
    readonly_fields = ("received_at",)
    autocomplete_fields = ("track",)


@admin.register(Fragment)
class FragmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "index", "start", "end", "state", "composed_at")
    list_filter = ("state",)
    search_fields = ("recording__room__title",)
    autocomplete_fields = ("recording",)


@admin.register(ConsentAnswer)
class ConsentAnswerAdmin(admin.ModelAdmin):
    """Every consent answer (issue 12); read-only: an answer is the person's, given in the room."""

    list_display = ("recording", "user", "answer", "answered_at", "first_answered_at")
    list_filter = ("answer", "recording__room")
    search_fields = ("recording__room__title", "recording__uid", "user__username", "user__display_name")
    date_hierarchy = "answered_at"
    readonly_fields = ("recording", "user", "answer", "answered_at", "first_answered_at", "history")
    actions = ["consent_report"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Download the consent report (CSV)", permissions=["view"])
    def consent_report(self, request: HttpRequest, queryset: QuerySet[ConsentAnswer]) -> HttpResponse:
        return consent_report_response(queryset, "consent-report")
