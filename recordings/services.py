"""Every write and state transition of recordings (DESIGN.md "State lives in the database").

The only module that writes `Recording.state` (tests/architecture checks it): every move goes
through `_transition`, allowed only along TRANSITIONS, under the row's lock, so double clicks,
two hosts and a sweep racing a click all give one outcome. The long steps after capture
(finalize, publish) run under a work claim with a heartbeat (`claim_step`, `keep_claim_alive`):
a second worker cannot run a step whose heartbeat is fresh, and takes over one whose is stale.
The media library publishes; it calls `claim_step`, `mark_available` and `step_failed` here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.tasks import enqueue_on_commit
from meetings import services as meeting_services
from meetings.models import LiveSession, Room, User
from recordings import events, fragments, signals, spool, windows
from recordings.models import ConsentAnswer, Fragment, Recording, RecordingPause, RecordingTransition, Segment, Track
from recordings.notices import TEXTS

logger = logging.getLogger(__name__)

S = Recording.State
Step = Recording.Step
FINALIZE_TASK = "recordings.tasks.finalize_recording"

# The state machine, in one table: from each state, where a recording may go.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.STARTING: frozenset({S.RECORDING, S.STOPPING, S.FAILED}),
    S.RECORDING: frozenset({S.STOPPING, S.FAILED}),
    S.STOPPING: frozenset({S.PROCESSING, S.FAILED}),
    S.PROCESSING: frozenset({S.AVAILABLE, S.HELD, S.FAILED}),
    S.HELD: frozenset({S.PROCESSING, S.FAILED}),  # released when the room closes; admin retry
    S.FAILED: frozenset({S.PROCESSING}),  # admin retry
    S.AVAILABLE: frozenset({S.PROCESSING}),  # admin: rebuild from the segments
}
# A step may be claimed in these states (publishing an available recording again re-verifies it).
CLAIMABLE: dict[str, tuple[str, ...]] = {Step.FINALIZE: (S.PROCESSING,), Step.PUBLISH: (S.PROCESSING, S.AVAILABLE)}
# Progress once the file is assembled; publishing takes it to 100.
ASSEMBLED = 97


class RecordingError(Exception):
    """A request that cannot be carried out; the message is safe to show to the person."""


class ConsentRefused(RecordingError):
    """Media of someone who has not agreed to be recorded, in a recording that asks (issue 12)."""


def sources_of(to_state: str) -> tuple[str, ...]:
    return tuple(state for state, targets in TRANSITIONS.items() if to_state in targets)


def _transition(
    recording_id: int, *, to_state: str, from_states: tuple[str, ...] | None = None, note: str = "", **fields: object
) -> Recording | None:
    """Move one recording to `to_state`, under its row lock; None if it was in no state that may.

    `from_states` narrows TRANSITIONS for one caller (e.g. a stop only from capture); it can never
    widen them.
    """
    allowed = sources_of(to_state)
    if from_states is not None:
        assert set(from_states) <= set(allowed), f"{from_states} -> {to_state} is not in TRANSITIONS"
        allowed = tuple(from_states)
    with transaction.atomic():
        recording = Recording.objects.select_for_update().filter(pk=recording_id).first()
        if recording is None or recording.state not in allowed:
            return None
        previous = recording.state
        recording.state = to_state
        for name, value in fields.items():
            setattr(recording, name, value)
        recording.save()
        transition = RecordingTransition.objects.create(
            recording=recording, from_state=previous, to_state=to_state, note=note[:500]
        )
        signals.recording_state_changed.send(
            sender=Recording, recording=recording, from_state=previous, to_state=to_state, transition_id=transition.pk
        )
        return recording


# --- Capture ---------------------------------------------------------------------------------


def start_recording(*, room: Room, user: User, note: str = "") -> tuple[Recording, bool]:
    """Start a recording of the room's open session, or return the one already running (created=False).

    `note` says in the recording's history why it started (default: who pressed Record).
    """
    now = timezone.now()
    with transaction.atomic():
        session = LiveSession.objects.open().select_for_update().filter(room=room).first()
        if session is None:
            raise RecordingError("There is no live session in this room.")
        existing = Recording.objects.active().filter(room=room).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                recording = Recording.objects.create(
                    room=room,
                    session=session,
                    started_by=user,
                    cap_deadline=now + timedelta(seconds=settings.RECORDING_MAX_SECONDS),
                    first_media_deadline=now + timedelta(seconds=settings.FIRST_MEDIA_TIMEOUT_SECONDS),
                    # The room's setting when it starts decides for the whole recording (issue 12).
                    consent_required=room.ask_recording_consent,
                )
        except IntegrityError:  # another host won the race between our check and insert
            return Recording.objects.active().get(room=room), False
        RecordingTransition.objects.create(
            recording=recording, to_state=S.STARTING, note=note or f"started by {user.username}"
        )
        events.announce_starting(recording)
        return recording, True


def start_automatic_recording(*, room: Room, user: User) -> Recording | None:
    """A room that records automatically: a host or moderator joined; start its session's recording.

    Only the session's first recording starts by itself (a host who stopped it may Record again);
    under the session's row lock, so two leaders joining at once start one recording.
    """
    if not room.record_automatically:
        return None
    with transaction.atomic():
        session = LiveSession.objects.open().select_for_update().filter(room=room).first()
        if session is None or Recording.objects.filter(session=session).exists():
            return None
        recording, created = start_recording(
            room=room, user=user, note=f"started automatically when {user.username} joined"
        )
        return recording if created else None


def answer_consent(*, recording: Recording, user: User, answer: str) -> ConsentAnswer:
    """Store `user`'s answer to "may we record you?" for `recording` (the last one counts; all are kept).

    Ingest takes their media only while the answer is "agree" (may_record). Raises RecordingError
    when the recording does not ask, or no longer takes media.
    """
    if answer not in ConsentAnswer.Answer.values:
        raise RecordingError('A consent answer is "agree" or "decline".')
    now = timezone.now()
    with transaction.atomic():
        locked = Recording.objects.select_for_update().filter(pk=recording.pk).first()
        if locked is None or locked.state not in Recording.CAPTURING_STATES:
            raise RecordingError("That recording is no longer running.")
        if not locked.consent_required:
            raise RecordingError("This recording does not ask for consent.")
        row = ConsentAnswer.objects.select_for_update().filter(recording=locked, user=user).first()
        step = {"answer": answer, "at": now.isoformat()}
        if row is None:
            row = ConsentAnswer.objects.create(
                recording=locked, user=user, answer=answer, answered_at=now, first_answered_at=now, history=[step]
            )
        else:
            row.answer, row.answered_at, row.history = answer, now, [*row.history, step]
            row.save(update_fields=["answer", "answered_at", "history"])
        events.announce_consent(row)
    return row


def may_record(*, recording: Recording, user_id: int) -> bool:
    """Whether ingest may take this person's media: always, unless the recording asks for consent and
    their last answer is not "agree" (no answer counts as declining)."""
    if not recording.consent_required:
        return True
    return ConsentAnswer.objects.filter(
        recording_id=recording.pk, user_id=user_id, answer=ConsentAnswer.Answer.AGREE
    ).exists()


def consent_answer(*, recording: Recording | None, user_id: int) -> str | None:
    """The person's last answer for `recording`, or None (not answered, or nothing to answer)."""
    if recording is None or not recording.consent_required:
        return None
    return (
        ConsentAnswer.objects.filter(recording_id=recording.pk, user_id=user_id)
        .values_list("answer", flat=True)
        .first()
    )


def mark_capturing(*, recording_id: int, capture_began: datetime) -> Recording | None:
    """The first media is on disk: tell everyone the session is being recorded."""
    began = min(capture_began, timezone.now())
    recording = _transition(recording_id, to_state=S.RECORDING, note="first media stored", started_at=began)
    if recording is not None:
        events.announce_recording(recording)
    return recording


def stop_recording(
    *, recording: Recording, reason: str, by: User | None = None, why: str | None = None
) -> Recording | None:
    """Stop capture; idempotent (a second stop, or a stop racing the sweep, does nothing).

    A recording stopped while paused ends its pause at Stop: the paused tail is not in the file.
    """
    now = timezone.now()
    with transaction.atomic():
        stopped = _transition(
            recording.pk,
            to_state=S.STOPPING,
            note=f"{reason}" + (f" by {by.username}" if by else ""),
            stop_reason=reason,
            stopped_at=now,
            stopped_by=by,
        )
        if stopped is not None and stopped.paused_at is not None:
            _end_pause(stopped, at=now)
        if stopped is not None:
            events.announce_stopped(stopped, why=why)
    return stopped


# --- Pause and resume (docs/decisions/0022) --------------------------------------------------


@dataclass(frozen=True)
class PauseOutcome:
    """What a pause or resume did: `changed` is False for a repeat (a double click, two leaders)."""

    recording: Recording
    changed: bool
    message: str = ""


def _capturing_for_update(room_id: int) -> Recording:
    recording = Recording.objects.select_for_update().filter(room_id=room_id, state__in=Recording.CAPTURING_STATES)
    found = recording.first()
    if found is None:
        raise RecordingError("There is no recording in progress.")
    return found


def _end_pause(recording: Recording, *, at: datetime) -> float:
    """Close the open pause (the row is locked by the caller): its length counts as not recorded."""
    assert recording.paused_at is not None
    length = max((at - recording.paused_at).total_seconds(), 0.0)
    RecordingPause.objects.filter(recording=recording, resumed_at__isnull=True).update(resumed_at=at)
    recording.paused_at = None
    recording.paused_seconds += length
    # The 24-hour cap counts recorded time: the deadline moves by the pause's length.
    recording.cap_deadline += timedelta(seconds=length)
    recording.save(update_fields=["paused_at", "paused_seconds", "cap_deadline"])
    return length


def pause_recording(*, room_id: int, by: User | None = None) -> PauseOutcome:
    """Pause the room's recording; a repeat (double click, a second leader) changes nothing.

    Under the row lock, like every transition: two leaders pausing at once give one pause. The
    state stays "recording"; browsers stop capturing and uploading until resumed.
    """
    with transaction.atomic():
        recording = _capturing_for_update(room_id)
        if recording.state != S.RECORDING:
            raise RecordingError("The recording has not started yet; it can be paused once it is recording.")
        if recording.paused_at is not None:
            return PauseOutcome(recording, changed=False, message="The recording is already paused.")
        now = timezone.now()
        recording.paused_at = now
        recording.save(update_fields=["paused_at"])
        RecordingPause.objects.create(recording=recording, paused_at=now, paused_by=by)
        events.announce_paused(recording)
        return PauseOutcome(recording, changed=True)


def resume_recording(*, room_id: int, by: User | None = None) -> PauseOutcome:
    """Resume a paused recording; one that is not paused is left as it is (changed=False, and why)."""
    with transaction.atomic():
        recording = _capturing_for_update(room_id)
        if recording.paused_at is None:
            return PauseOutcome(recording, changed=False, message="The recording is not paused.")
        _end_pause(recording, at=timezone.now())
        events.announce_resumed(recording)
        return PauseOutcome(recording, changed=True)


def stop_active_recording(
    *, room_id: int, reason: str, by: User | None = None, why: str | None = None
) -> Recording | None:
    active = Recording.objects.capturing().filter(room_id=room_id).first()
    if active is None:
        return None
    return stop_recording(recording=active, reason=reason, by=by, why=why)


def fail_recording(*, recording_id: int, error: str, from_states: tuple[str, ...] | None = None) -> Recording | None:
    """The recording cannot be made; the reason is kept for the admin and told to its hosts."""
    failed = _transition(
        recording_id,
        to_state=S.FAILED,
        from_states=from_states,
        note=error,
        error=error,
        work_heartbeat=None,
        work_due_at=None,
    )
    if failed is not None:
        events.announce_failed(failed, text=error)
    return failed


# --- Processing: the long steps under work claims --------------------------------------------


def _make_due(recording_id: int, step: str, *, delay: float = 0.0) -> None:
    """Mark `step` as the recording's next work (due after `delay`), with a fresh attempt count."""
    Recording.objects.filter(pk=recording_id).update(
        work_step=step,
        work_due_at=timezone.now() + timedelta(seconds=delay),
        work_heartbeat=None,
        work_attempts=0,
    )


def _queue_finalize(recording_id: int) -> None:
    _make_due(recording_id, Step.FINALIZE)
    enqueue_on_commit(FINALIZE_TASK, recording_id)


def _publish_due(recording_id: int) -> None:
    _make_due(recording_id, Step.PUBLISH)
    signals.recording_ready.send(sender=Recording, recording_id=recording_id)


def begin_processing(*, recording_id: int) -> Recording | None:
    """After the stop grace (late segments have landed), hand the recording to composition."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        return None
    if not Segment.objects.filter(track__recording_id=recording_id).exists():
        return fail_recording(
            recording_id=recording_id,
            error=TEXTS.text("recording_no_media_before_stop"),
            from_states=(S.STOPPING,),
        )
    with transaction.atomic():  # the state and its due step together: never processing with nothing due
        processing = _transition(
            recording_id,
            to_state=S.PROCESSING,
            from_states=(S.STOPPING,),
            note="capture closed",
            duration=windows.recorded_duration(recording),
        )
        if processing is not None:
            events.broadcast_state(processing)
            _queue_finalize(recording_id)
    return processing


def claim_step(*, recording_id: int, step: str) -> bool:
    """Claim the due `step` for this worker: True unless another worker's heartbeat is fresh.

    One conditional UPDATE, so two workers racing for it give one winner. A claim whose heartbeat
    is older than WORK_STALE_SECONDS belonged to a dead worker and is taken over.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORK_STALE_SECONDS)
    return bool(
        Recording.objects.filter(pk=recording_id, state__in=CLAIMABLE[step], work_step=step)
        .filter(Q(work_heartbeat__isnull=True) | Q(work_heartbeat__lt=stale))
        .update(work_heartbeat=now, work_attempts=F("work_attempts") + 1)
    )


def beat(*, recording_id: int, step: str, progress: int | None = None) -> bool:
    """Refresh our claim's heartbeat (and the progress shown to hosts); False if the step moved on."""
    fields: dict[str, object] = {"work_heartbeat": timezone.now()}
    if progress is not None:
        fields["progress"] = progress
    # Only a held claim is refreshed: once the step finished or failed (heartbeat cleared), a late
    # beat from the helper thread must not make it look claimed again.
    held = Recording.objects.filter(
        pk=recording_id, state__in=CLAIMABLE[step], work_step=step, work_heartbeat__isnull=False
    )
    updated = held.update(**fields)
    if updated and progress is not None:
        recording = Recording.objects.only("uid", "room_id", "state", "progress").get(pk=recording_id)
        events.announce_progress(recording)
    return bool(updated)


@contextmanager
def beating(refresh: Callable[[], object], *, name: str) -> Iterator[None]:
    """Call `refresh` from a helper thread while the body works (an encode, an upload).

    Four beats per stale interval, so one slow beat never lets a live claim look dead; the body
    may hold the CPU in native code for seconds at a time without its claim going stale.
    """
    stop = threading.Event()
    interval = max(settings.WORK_STALE_SECONDS / 4, 0.05)

    def run() -> None:
        try:
            while not stop.wait(interval):
                try:
                    refresh()
                except Exception:  # a missed beat is retried at the next; it must not kill the thread
                    logger.exception("heartbeat %s failed", name)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def keep_claim_alive(*, recording_id: int, step: str) -> AbstractContextManager[None]:
    """Keep this worker's claim on `step` fresh while the body works."""
    return beating(lambda: beat(recording_id=recording_id, step=step), name=f"claim-{recording_id}-{step}")


def finish_finalize(*, recording_id: int, output_path: str, duration: float) -> Recording:
    """The verified MP4 is assembled: hold it (a broadcast whose room is open) or make publishing due.

    One transaction, so no moment exists where finalize is done but neither step is recorded.
    """
    with transaction.atomic():
        Recording.objects.filter(pk=recording_id).update(
            output_path=output_path, duration=duration, processed_at=timezone.now(), progress=ASSEMBLED
        )
        events.announce_progress(Recording.objects.get(pk=recording_id))
        if not hold_if_room_open(recording_id=recording_id):
            _publish_due(recording_id)
    return Recording.objects.get(pk=recording_id)


def step_failed(*, recording_id: int, step: str, error: str) -> float | None:
    """A claimed step failed: seconds until it should be tried again, or None if the recording failed.

    Finalize fails at once (its input will not change by waiting: the admin retries from the
    segments). Publish retries with exponential back-off (storage may come back) until
    PUBLISH_MAX_ATTEMPTS, then fails with the reason; the admin retry starts it again.
    """
    recording = Recording.objects.filter(pk=recording_id).only("work_attempts", "state").first()
    if recording is None:
        return None
    if step == Step.PUBLISH and recording.work_attempts < settings.PUBLISH_MAX_ATTEMPTS:
        delay = min(
            settings.PUBLISH_RETRY_BASE_SECONDS * 2 ** max(recording.work_attempts - 1, 0),
            settings.PUBLISH_RETRY_MAX_SECONDS,
        )
        # Shown to its hosts (My Media, a notice in the room) and in the admin while it retries.
        waiting = (
            f"Storing the file failed ({error}); trying again in {delay:.0f} s "
            f"(try {recording.work_attempts} of {settings.PUBLISH_MAX_ATTEMPTS})."
        )
        Recording.objects.filter(pk=recording_id, work_step=step).update(
            work_heartbeat=None, work_due_at=timezone.now() + timedelta(seconds=delay), error=waiting[:2000]
        )
        events.announce_retrying(Recording.objects.get(pk=recording_id))
        logger.warning("recording %s: %s failed (try %s), again in %.0f s: %s", recording_id, step,
                       recording.work_attempts, delay, error)  # fmt: skip
        return delay
    what = "Publishing" if step == Step.PUBLISH else "Processing"
    fail_recording(recording_id=recording_id, error=f"{what} failed: {error}", from_states=(S.PROCESSING,))
    return None


def mark_available(*, recording_id: int, note: str = "") -> bool:
    """Published and verified: the recording is available. False if it was already (a republish).

    Raises RecordingError from any other state: only a processing recording becomes available.
    """
    now = timezone.now()
    done = _transition(
        recording_id,
        to_state=S.AVAILABLE,
        note=note,
        available_at=now,
        progress=100,
        error="",
        work_heartbeat=None,
        work_due_at=None,
    )
    if done is not None:
        if done.processed_at is None:
            Recording.objects.filter(pk=recording_id).update(processed_at=now)
        return True
    state = Recording.objects.filter(pk=recording_id).values_list("state", flat=True).first()
    if state == S.AVAILABLE:
        Recording.objects.filter(pk=recording_id).update(work_heartbeat=None, work_due_at=None)
        return False
    raise RecordingError(f"recording {recording_id} is {state or 'missing'}; it cannot become available")


def requeue_stalled_work() -> int:
    """Work whose task was lost (a worker killed, Redis restarted empty) is queued again.

    A step counts as lost when it was due longer ago than the stale interval and no worker has a
    fresh heartbeat on it. Run by the recordings sweep.
    """
    stale = timezone.now() - timedelta(seconds=settings.WORK_STALE_SECONDS)
    lost = (
        Recording.objects.filter(state__in=(S.PROCESSING, S.AVAILABLE), work_due_at__lt=stale)
        .exclude(work_step="")
        .filter(Q(work_heartbeat__isnull=True) | Q(work_heartbeat__lt=stale))
        .values_list("pk", "work_step", "work_attempts")
    )
    count = 0
    for recording_id, step, attempts in lost:
        with transaction.atomic():
            if step == Step.FINALIZE:
                Recording.objects.filter(pk=recording_id).update(work_due_at=timezone.now(), work_heartbeat=None)
                enqueue_on_commit(FINALIZE_TASK, recording_id)
            else:
                Recording.objects.filter(pk=recording_id).update(work_due_at=timezone.now(), work_heartbeat=None)
                signals.recording_ready.send(sender=Recording, recording_id=recording_id)
        logger.warning("recording %s: %s was lost (try %s); queued again", recording_id, step, attempts)
        count += 1
    return count


# --- Composition windows: scheduled as they settle, by ingest and by the sweep -----------------

COMPOSE_WINDOW_TASK = "recordings.tasks.compose_window"


def schedule_windows(*, recording: Recording, now: datetime | None = None) -> int:
    """Create and queue the windows of `recording` that have settled and do not exist yet.

    Called by ingest whenever a segment lands (so composition keeps up even while beat is down)
    and by the sweep. Usually no query at all: only when a new window has become due does one
    conditional UPDATE pick the caller that creates it.
    """
    due = windows.due_windows(recording, now=now)
    if due <= recording.windows_scheduled:
        return 0
    queued = 0
    with transaction.atomic():
        if not Recording.objects.filter(pk=recording.pk, windows_scheduled__lt=due).update(windows_scheduled=due):
            return 0
        recording.windows_scheduled = due
        have = set(Fragment.objects.filter(recording=recording).values_list("index", flat=True))
        window = settings.COMPOSE_WINDOW_SECONDS
        for index in sorted(set(range(due)) - have):
            fragment, created = Fragment.objects.get_or_create(
                recording=recording,
                index=index,
                defaults={
                    "start": windows.on_grid(index * window),
                    "end": windows.on_grid((index + 1) * window),
                    "queued_at": timezone.now(),
                },
            )
            if created:
                enqueue_on_commit(COMPOSE_WINDOW_TASK, fragment.pk)
                queued += 1
    return queued


def requeue_lost_windows() -> int:
    """Windows whose compose task was lost (a killed worker, Redis restarted empty) are queued again.

    Lost means queued longer ago than COMPOSE_REQUEUE_SECONDS and nobody's heartbeat on it: a
    window merely waiting behind others in a busy queue is only queued twice, which costs a skip.
    At Stop, finalize composes whatever is still missing, so this only keeps the tail short.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORK_STALE_SECONDS)
    lost = (
        Fragment.objects.filter(
            state=Fragment.State.PENDING,
            recording__state__in=(S.RECORDING, S.STOPPING),
            queued_at__lt=now - timedelta(seconds=settings.COMPOSE_REQUEUE_SECONDS),
        )
        .filter(Q(heartbeat__isnull=True) | Q(heartbeat__lt=stale))
        .values_list("pk", flat=True)
    )
    count = 0
    for fragment_id in lost:
        with transaction.atomic():
            Fragment.objects.filter(pk=fragment_id).update(queued_at=now)
            enqueue_on_commit(COMPOSE_WINDOW_TASK, fragment_id)
        count += 1
    return count


def claim_window(*, fragment_id: int, by: str = "") -> bool:
    """Claim one window for this worker: True unless another worker composing it has a fresh heartbeat.

    `by` names the worker (kept in composed_by), so staff see who holds, or last composed, a window.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORK_STALE_SECONDS)
    fields: dict[str, object] = {"heartbeat": now}
    if by:  # a window already composed keeps the name of the worker that composed it
        fields["composed_by"] = Case(When(state=Fragment.State.DONE, then=F("composed_by")), default=Value(by[:200]))
    return bool(
        Fragment.objects.filter(pk=fragment_id)
        .filter(Q(heartbeat__isnull=True) | Q(heartbeat__lt=stale))
        .update(**fields)
    )


def keep_window_alive(*, fragment_id: int) -> AbstractContextManager[None]:
    def refresh() -> None:
        Fragment.objects.filter(pk=fragment_id, heartbeat__isnull=False).update(heartbeat=timezone.now())

    return beating(refresh, name=f"window-{fragment_id}")


def window_done(*, fragment_id: int, path: str, report: dict[str, object], composed_by: str = "") -> None:
    Fragment.objects.filter(pk=fragment_id).update(
        state=Fragment.State.DONE,
        path=path,
        composed_at=timezone.now(),
        composed_by=composed_by[:200],
        report=report,
        heartbeat=None,
    )


def release_window(*, fragment_id: int) -> None:
    """A composition that failed gives its window back at once (not after the stale interval)."""
    Fragment.objects.filter(pk=fragment_id).update(heartbeat=None)


# --- After publishing: the recording's media leaves the spool and the fragment store -----------


def remove_published_media(*, now: datetime | None = None, limit: int = 20) -> int:
    """Remove the segments and fragments (final MP4 included) of recordings published a while ago.

    Their file is in the media storage by then. Run by the sweep, so a crash between publishing and
    removing only delays it; idempotent (removing what is gone is nothing). A recording whose publish
    is due again (an admin republish: `work_due_at` set) keeps its media until that is done.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RECORDING_MEDIA_KEEP_SECONDS)
    due = Recording.objects.filter(
        state=S.AVAILABLE, available_at__lte=cutoff, media_removed_at__isnull=True, work_due_at__isnull=True
    ).values_list("pk", "uid")[:limit]
    removed = 0
    for recording_id, uid in due:
        try:
            segments = spool.get_spool().remove_recording(str(uid))
            pieces = fragments.get_store().remove_recording(str(uid))
        except Exception:  # storage down: tried again at the next sweep
            logger.exception("recording %s: removing its media after publishing failed", recording_id)
            continue
        removed += Recording.objects.filter(pk=recording_id, media_removed_at__isnull=True).update(media_removed_at=now)
        logger.info("recording %s: %s segments and %s fragment files removed after publishing",
                    recording_id, segments, pieces)  # fmt: skip
    return removed


# --- Admin retries -----------------------------------------------------------------------------


def reprocess(*, recording_id: int) -> Recording | None:
    """Admin retry: process again from the stored segments (after a failure, or to rebuild the file)."""
    with transaction.atomic():
        recording = _transition(
            recording_id,
            to_state=S.PROCESSING,
            note="retry from segments",
            error="",
            progress=0,
            output_path="",
        )
        if recording is not None:
            events.broadcast_state(recording)
            _queue_finalize(recording_id)
    return recording


def retry_publishing(*, recording_id: int) -> Recording | None:
    """Admin retry of a processed recording: publish its verified MP4 again (failed, stuck or available).

    A failed recording goes back to processing; an available one is re-verified in place (its
    entry recreated if it was deleted). None if the recording is elsewhere (capturing, held).
    """
    with transaction.atomic():
        recording = Recording.objects.select_for_update().filter(pk=recording_id).first()
        if recording is None or not fragments.output_exists(recording.output_path):
            return None  # nothing to publish (never made, or removed after publishing): retry from the segments
        if recording.state == S.FAILED:
            recording = _transition(recording_id, to_state=S.PROCESSING, note="retry publishing", error="")
        elif recording.state not in CLAIMABLE[Step.PUBLISH]:
            return None
        assert recording is not None
        _publish_due(recording_id)
        return recording


# --- Broadcast rooms: held until the room is closed (SPEC "Live broadcast rooms") -------------


def hold_if_room_open(*, recording_id: int) -> bool:
    """Finalize's last step: True if this broadcast recording must wait for the room to close (held).

    Under the session's row lock, so a host closing the room at the same moment either comes first
    (we see it closed and publish) or after (it finds the recording held and releases it).
    """
    with transaction.atomic():
        recording = Recording.objects.select_related("room").filter(pk=recording_id).first()
        if recording is None or recording.room.mode != Room.Mode.BROADCAST:
            return False
        session = LiveSession.objects.select_for_update().get(pk=recording.session_id)
        if session.state == LiveSession.State.ENDED and session.room_closed:
            return False
        held = _transition(
            recording_id,
            to_state=S.HELD,
            from_states=(S.PROCESSING,),
            note="broadcast: the room has not been closed",
            work_step="",
            work_due_at=None,
        )
        if held is None:
            return False
        events.announce_held(held)
        return True


def release_held(*, recordings: list[int] | None = None, session_id: int | None = None) -> list[Recording]:
    """The room was closed: publish held recordings (their verified MP4 is ready).

    Either the given recordings or every held recording of `session_id`. A recording held before
    its file was made (an admin retry of a held one) is processed again instead.
    """
    held = Recording.objects.held()
    ids = list(held.filter(pk__in=recordings) if recordings is not None else held.filter(session_id=session_id))
    released = []
    for recording in ids:
        with transaction.atomic():
            moved = _transition(recording.pk, to_state=S.PROCESSING, from_states=(S.HELD,), note="room closed")
            if moved is None:
                continue
            events.broadcast_state(moved)
            if moved.output_path:
                _publish_due(moved.pk)
            else:
                _queue_finalize(moved.pk)
        released.append(moved)
    return released


def publish_held_as_closed(*, recording_ids: list[int]) -> list[Recording]:
    """Admin: treat the rooms of these held recordings as closed, and publish them."""
    sessions = set(Recording.objects.held().filter(pk__in=recording_ids).values_list("session_id", flat=True))
    for session_id in sessions:
        meeting_services.mark_room_closed(session_id=session_id)
    return release_held(recordings=recording_ids)


# --- Ingest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    segment: Segment
    created: bool


def accepts_segments(recording: Recording, *, now: datetime | None = None) -> bool:
    """Capture is running, or stopped so recently that the last pieces may still be in flight."""
    if recording.state in Recording.CAPTURING_STATES:
        return True
    if recording.state == S.STOPPING and recording.stopped_at is not None:
        now = now or timezone.now()
        return now - recording.stopped_at <= timedelta(seconds=settings.STOP_GRACE_SECONDS)
    return False


def timeline_start(
    *, recording: Recording, track: Track, client_start_ms: float | None, duration: float | None, received_at: datetime
) -> float:
    """Seconds on the recording's timeline, from the browser's clock corrected by the server-measured offset."""
    origin = recording.created_at.timestamp()
    if client_start_ms is not None:
        start = client_start_ms / 1000.0 + track.clock_offset - origin
    else:  # no timing sent: it ended about when it arrived
        start = received_at.timestamp() - (duration or settings.SEGMENT_SECONDS) - origin
    # Never before the start, never in the future: a clock we cannot correct must not move media far.
    latest = received_at.timestamp() - origin
    return round(min(max(start, 0.0), max(latest, 0.0)), 3)


def record_segment(
    *,
    recording: Recording,
    user: User,
    client_id: str,
    kind: str,
    seq: int,
    relpath: str,
    size: int,
    sha256: str,
    client_start_ms: float | None,
    duration: float | None,
    final: bool = False,
) -> IngestResult:
    """Record a durable segment; a retry of the same bytes returns the first row (idempotent).

    Runs for every segment of every participant, on the database thread that also serves the
    websockets: a new segment of a known track is one SELECT and one INSERT.
    """
    received_at = timezone.now()
    if not may_record(recording=recording, user_id=user.pk):  # ingest asked too; this is the last word
        raise ConsentRefused(TEXTS.text("consent_refused"))
    track = Track.objects.filter(recording=recording, client_id=client_id).first()
    if track is None:  # the track's first segment: its clock offset is the one measured over the socket
        offset = meeting_services.clock_offset_for(session_id=recording.session_id, user_id=user.pk)
        track, _ = Track.objects.get_or_create(
            recording=recording,
            client_id=client_id,
            defaults={"user": user, "kind": kind, "clock_offset": offset or 0.0},
        )
    if track.user_id != user.pk or track.kind != kind:
        raise RecordingError("That track belongs to someone else or is of another kind.")
    start = timeline_start(
        recording=recording, track=track, client_start_ms=client_start_ms, duration=duration, received_at=received_at
    )
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                track=track, seq=seq, path=relpath, size=size, start=start, duration=duration, sha256=sha256
            )
    except IntegrityError:  # already stored (a retry, or the same retry racing itself)
        segment = Segment.objects.get(track=track, seq=seq)
        if segment.sha256 != sha256:
            raise RecordingError("A different segment with that number was already stored.") from None
        return IngestResult(segment=segment, created=False)
    if recording.state in (S.RECORDING, S.STOPPING):
        windows.invalidate_windows(segment=segment, recording=recording)
        if settings.COMPOSE_FROM_INGEST:
            schedule_windows(recording=recording)
    if final:
        _close_track(recording=recording, track=track)
    if recording.state == S.STARTING:
        capture_began = datetime.fromtimestamp(recording.created_at.timestamp() + start, tz=received_at.tzinfo)
        mark_capturing(recording_id=recording.pk, capture_began=capture_began)
    return IngestResult(segment=segment, created=True)


def _close_track(*, recording: Recording, track: Track) -> None:
    """A browser sent its last piece; once every track has, processing need not wait out the grace."""
    Track.objects.filter(pk=track.pk).update(ended=True)
    recording.refresh_from_db(fields=["state"])
    if recording.state == S.STOPPING and not recording.tracks.filter(ended=False).exists():
        begin_processing(recording_id=recording.pk)
