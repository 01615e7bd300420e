"""What was presented in the recording's session, as the compositor's stage items.

Reads meetings' presentations (their rows and event logs, server clock) for the recording's live
session, puts them on the recording's output timeline (0 is the video's first frame; a paused
recording's paused spans cut out, decision 0022) and fetches, from default_storage into the
window's scratch space, only the files the window being composed shows: the pictures of the
pages turned to in it, the image, or the video. The drawing itself is recordings/media/stage.py
(pure, no Django). Decision 0027.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q

from core import files
from meetings.models import Presentation, PresentationEvent, PresentationKind
from recordings.media.stage import StageItem, StageStep, cut_stage_item
from recordings.media.timeline import SegmentProblem
from recordings.models import Recording
from recordings.windows import AUDIO_POSTROLL_S, AUDIO_PREROLL_S, cut_timeline, timeline_origin

logger = logging.getLogger(__name__)

# A window also mixes the sound a little before and after itself (recordings/media/audio.py).
MARGIN_S = max(AUDIO_PREROLL_S, AUDIO_POSTROLL_S) + 1.0


def _media_seconds(recording: Recording, at: datetime) -> float:
    """Seconds of server instant ``at`` on the media timeline (0 = the first media, as segments are placed)."""
    return (at - recording.created_at).total_seconds() - timeline_origin(recording)


def _item(recording: Recording, presentation: Presentation, events: list[PresentationEvent]) -> StageItem:
    """One presentation on the media timeline, its steps naming storage files (not yet fetched)."""
    end = math.inf if presentation.ended_at is None else _media_seconds(recording, presentation.ended_at)
    steps: list[StageStep] = []
    for event in events:
        at = _media_seconds(recording, event.at)
        if presentation.kind == PresentationKind.PDF:
            pages = presentation.pages or []
            page = event.page or 1
            steps.append(StageStep(at=at, image=pages[page - 1] if 1 <= page <= len(pages) else None))
        elif presentation.kind == PresentationKind.IMAGE:
            steps.append(StageStep(at=at, image=presentation.source or None))
        else:
            steps.append(StageStep(at=at, position=max(event.position or 0.0, 0.0), playing=event.playing))
    if not steps and presentation.kind == PresentationKind.IMAGE:
        steps.append(
            StageStep(at=_media_seconds(recording, presentation.started_at), image=presentation.source or None)
        )
    return StageItem(
        item_id=f"presentation-{presentation.pk:010d}",
        kind=presentation.kind,  # type: ignore[arg-type]  # the presentation_kind_valid constraint
        start=_media_seconds(recording, presentation.started_at),
        end=end,
        steps=tuple(steps),
        video=(presentation.source or None) if presentation.kind == PresentationKind.VIDEO else None,
    )


def fetch(name: str, dest: Path) -> str:
    """A path on this machine to storage file ``name``: itself, or a copy under ``dest``."""
    try:
        direct = default_storage.path(name)  # on a file system, the stored file itself: no copy
    except NotImplementedError:  # S3: copied into the window's scratch space (removed with it)
        direct = None
    if direct is not None and Path(direct).is_file():
        return direct
    digest = hashlib.sha256(name.encode()).hexdigest()[:24]
    local = dest / f"{digest}{PurePosixPath(name).suffix.lower()[:8]}"
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, files.atomic_path(local) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)
    return str(local)


def _localised(item: StageItem, *, start: float, end: float, dest: Path) -> StageItem:
    """The item with the files this window needs fetched; steps it does not show name no file."""
    runs = item.runs(start - MARGIN_S, end + MARGIN_S)
    shown = {step.image for _a, _b, step in runs if step.image is not None}
    steps = []
    for step in item.steps:
        image = step.image
        if image is not None:
            image = fetch(image, dest) if image in shown else None
        steps.append(StageStep(at=step.at, image=image, position=step.position, playing=step.playing))
    video = fetch(item.video, dest) if item.video is not None and runs else None
    return StageItem(item.item_id, item.kind, item.start, item.end, tuple(steps), video)


def stage_inputs(
    recording: Recording, *, start: float, end: float, dest: Path
) -> tuple[list[StageItem], list[SegmentProblem]]:
    """The presentations shown in output seconds ``[start, end)``, their files fetched into ``dest``.

    A file that cannot be fetched leaves its presentation out of the window (reported, its seconds
    showing the cameras alone) rather than failing it: one bad item must not cost the recording.
    """
    if recording.started_at is None:
        return [], []
    rows = Presentation.objects.filter(session_id=recording.session_id).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=recording.started_at)
    )
    if recording.stopped_at is not None:
        rows = rows.filter(started_at__lt=recording.stopped_at)
    rows = rows.prefetch_related(Prefetch("events", queryset=PresentationEvent.objects.order_by("at", "pk")))
    cuts = cut_timeline(recording)
    items: list[StageItem] = []
    problems: list[SegmentProblem] = []
    for presentation in rows.order_by("started_at", "pk"):
        item: StageItem | None = _item(recording, presentation, list(presentation.events.all()))
        if item is not None and cuts is not None:
            item = cut_stage_item(item, cuts)
        if item is None or not item.steps or not item.runs(start - MARGIN_S, end + MARGIN_S):
            continue
        try:
            items.append(_localised(item, start=start, end=end, dest=dest))
        except OSError as exc:  # missing or unreadable in storage (FileNotFoundError is an OSError)
            logger.warning("recording %s: presentation %s not drawn: %s", recording.pk, presentation.pk, exc)
            problems.append(
                SegmentProblem(item.item_id, "", max(item.start, start), min(item.end, end), f"cannot fetch: {exc}")
            )
    return items, problems
