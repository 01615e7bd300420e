from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from media_library.admin_actions import republish_recordings, retry_publishing
from recordings.models import Fragment, Recording, RecordingTransition, Segment, Track

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
    "duration",
    "progress",
    "error",
    "output_path",
    "finalize_enqueued_at",
    "processing_heartbeat",
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


class TransitionInline(admin.TabularInline):
    model = RecordingTransition
    extra = 0
    fields = ("at", "from_state", "to_state", "note")
    readonly_fields = fields
    can_delete = False


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "room",
        "started_by",
        "state",
        "progress_bar",
        "stop_reason",
        "created_at",
        "duration",
        "short_error",
    )
    list_filter = ("state", "stop_reason", "room__kind", "room__mode")
    search_fields = ("room__title", "started_by__username", "uid", "error")
    date_hierarchy = "created_at"
    autocomplete_fields = ("room", "session", "started_by")
    readonly_fields = RECORDING_MACHINE_FIELDS
    inlines = [TrackInline, FragmentInline, TransitionInline]

    actions = ["retry_from_segments", retry_publishing, republish_recordings, "publish_held"]

    @admin.display(description="Error")
    def short_error(self, obj: Recording) -> str:
        return (obj.error[:80] + "...") if len(obj.error) > 80 else obj.error

    @admin.display(description="Progress", ordering="progress")
    def progress_bar(self, obj: Recording) -> str:
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%', obj.progress, obj.progress, obj.progress
        )

    @admin.action(description="Retry processing from the stored segments")
    def retry_from_segments(self, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
        from recordings import pipeline

        retried = [rec for rec in queryset if pipeline.retry_from_segments(rec) is not None]
        skipped = queryset.count() - len(retried)
        if retried:
            self.message_user(request, f"Processing again: {len(retried)} recording(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} recording(s) skipped: only failed, available or held recordings can be processed again.",
                messages.WARNING,
            )

    @admin.action(description="Publish held broadcast recordings (treat their room as closed)")
    def publish_held(self, request: HttpRequest, queryset: QuerySet[Recording]) -> None:
        from recordings import services

        # Read the selection before releasing: the changelist's queryset may be filtered by state.
        selected = list(queryset.values_list("state", "session_id"))
        sessions = {session_id for state, session_id in selected if state == Recording.State.HELD}
        released = sum(len(services.release_held(session_id=session_id, close=True)) for session_id in sessions)
        skipped = sum(1 for state, _ in selected if state != Recording.State.HELD)
        if released:
            self.message_user(request, f"Publishing {released} held recording(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} recording(s) skipped: only held recordings are published this way.",
                messages.WARNING,
            )


@admin.register(RecordingTransition)
class RecordingTransitionAdmin(admin.ModelAdmin):
    list_display = ("recording", "from_state", "to_state", "at", "note")
    list_filter = ("to_state",)
    search_fields = ("recording__room__title", "note")
    readonly_fields = ("at",)


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    fields = ("seq", "start", "duration", "size", "path", "received_at")
    readonly_fields = fields


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "user", "kind", "client_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("recording__room__title", "user__username", "client_id")
    autocomplete_fields = ("recording", "user")
    inlines = [SegmentInline]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "track", "seq", "start", "duration", "size", "received_at")
    search_fields = ("track__recording__room__title", "path", "sha256")
    readonly_fields = ("received_at",)
    autocomplete_fields = ("track",)


@admin.register(Fragment)
class FragmentAdmin(admin.ModelAdmin):
    list_display = ("pk", "recording", "index", "start", "end", "state", "composed_at")
    list_filter = ("state",)
    search_fields = ("recording__room__title",)
    autocomplete_fields = ("recording",)
