"""The consent report (issue 12, like Zoom's): who agreed or declined to be recorded, as CSV.

A read, for staff (the admin's actions on recordings and on consent answers). Cells that a
spreadsheet would run as a formula (a display name starting with "=") are quoted with a
leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.db.models import QuerySet

from recordings.models import ConsentAnswer, Recording

HEADER = (
    "recording",
    "room",
    "recording created",
    "username",
    "name",
    "email",
    "answer",
    "answered at",
    "first answered at",
    "answers given",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def answers_of(recordings: QuerySet[Recording]) -> QuerySet[ConsentAnswer]:
    return ConsentAnswer.objects.filter(recording__in=recordings)


def consent_csv(answers: Iterable[ConsentAnswer] | QuerySet[ConsentAnswer]) -> str:
    """One row per person and recording: their last answer, when, and how many answers they gave."""
    if isinstance(answers, QuerySet):
        answers = answers.select_related("recording__room", "user").order_by(
            "recording__created_at", "recording_id", "first_answered_at", "pk"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in answers:
        user, recording = row.user, row.recording
        writer.writerow(
            [
                _cell(recording.uid),
                _cell(recording.room.title),
                _cell(recording.created_at.isoformat()),
                _cell(user.username),
                _cell(user.label),
                _cell(user.email),
                _cell(row.answer),
                _cell(row.answered_at.isoformat()),
                _cell(row.first_answered_at.isoformat()),
                len(row.history),
            ]
        )
    return out.getvalue()
