"""Retention and the recycle bin: the media library's deadlines, enforced by an idempotent sweep.

Celery beat runs `sweep` (media_library.tasks.sweep_retention, on the sweep queue). Each run:
1. warns: a recording whose retention ends within RETENTION_WARNING_DAYS gets its deletion date
   (`deletion_due_at`, never sooner than the warning period from now) and its owner a notice;
2. forgets a date that no longer holds (viewed since, kept, the policy changed);
3. bins what is due (`services.delete_entry`, by nobody: the policy);
4. purges what stayed in the bin past `purge_after` (`services.purge_entry`: row, file, poster).

Which policy applies (docs/decisions/0024): the room's own, else its channel's, else the site's
(settings RETENTION_DAYS / RETENTION_BASIS); only recordings are subject to it (uploaded files are not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from media_library import conf, services
from media_library.models import MediaEntry, RetentionNotice, RetentionPolicy
from meetings.models import Room

logger = logging.getLogger(__name__)

BATCH = 500  # entries binned or purged per run at most: a long backlog is worked off over a few runs


@dataclass(frozen=True)
class Rule:
    """One retention rule and the recordings it governs."""

    where: Q
    days: int
    basis: str


def rules() -> list[Rule]:
    """Every rule in force, each with the recordings it governs (the overrides excluded from the wider ones)."""
    policies = list(RetentionPolicy.objects.all())
    room_ids = [p.room_id for p in policies if p.room_id is not None]
    channel_ids = [p.channel_id for p in policies if p.channel_id is not None]
    channel_rooms = Room.objects.filter(channel_id__in=channel_ids).values("pk")
    found: list[Rule] = []
    for policy in policies:
        if not policy.days:
            continue  # "keep" overrides the wider rules, and deletes nothing itself
        if policy.room_id is not None:
            where = Q(room_id=policy.room_id)
        elif policy.channel_id is not None:
            where = Q(room_id__in=Room.objects.filter(channel_id=policy.channel_id).values("pk"))
            where &= ~Q(room_id__in=room_ids)
        else:
            continue  # neither (the table's constraint forbids it)
        found.append(Rule(where=where, days=policy.days, basis=policy.basis))
    site_days = conf.retention_days()
    if site_days:
        outside = Q(room_id__isnull=True) | (~Q(room_id__in=room_ids) & ~Q(room_id__in=channel_rooms))
        found.append(Rule(where=outside, days=site_days, basis=conf.retention_basis()))
    return found


def _with_basis(entries: QuerySet[MediaEntry]) -> QuerySet[MediaEntry]:
    """Annotate when each rule's clock started: creation or the last view, or the owner's Keep if later."""
    kept = Coalesce(F("kept_at"), F("created_at"), output_field=DateTimeField())
    return entries.annotate(
        basis_created=Greatest(F("created_at"), kept, output_field=DateTimeField()),
        basis_last_viewed=Greatest(
            Coalesce(F("last_viewed_at"), F("created_at"), output_field=DateTimeField()), kept,
            output_field=DateTimeField(),
        ),
    )  # fmt: skip


def _subject() -> QuerySet[MediaEntry]:
    # Recordings only (SPEC/issue: "delete recordings"); MediaEntry.objects already leaves the bin out.
    return _with_basis(MediaEntry.objects.filter(source_recording__isnull=False))


def _within(rule: Rule, horizon: datetime) -> Q:
    """The rule's recordings whose retention ends at or before `horizon`."""
    return rule.where & Q(**{f"basis_{rule.basis}__lte": horizon - timedelta(days=rule.days)})


def warn(now: datetime) -> int:
    """Give each recording entering the warning period its deletion date, and tell its owner once."""
    warning = timedelta(days=conf.retention_warning_days())
    told = 0
    for rule in rules():
        entries = _subject().filter(_within(rule, now + warning), deletion_due_at__isnull=True)
        for entry in entries.only("pk", "owner_id", "created_at", "last_viewed_at", "kept_at")[:BATCH]:
            started: datetime = getattr(entry, f"basis_{rule.basis}")
            # Never sooner than the warning period: a new or shortened policy still gives owners their week.
            due = max(started + timedelta(days=rule.days), now + warning)
            with transaction.atomic():
                updated = MediaEntry.objects.filter(pk=entry.pk, deletion_due_at__isnull=True).update(
                    deletion_due_at=due
                )
                if not updated:
                    continue
                try:
                    with transaction.atomic():
                        RetentionNotice.objects.create(user_id=entry.owner_id, entry_id=entry.pk, deletion_due_at=due)
                except IntegrityError:  # told of this very date already
                    pass
            told += 1
    return told


def _due_ids(now: datetime) -> QuerySet[MediaEntry]:
    """Recordings that are within the warning period of a rule in force (whatever their stored date)."""
    horizon = now + timedelta(days=conf.retention_warning_days())
    condition = Q(pk__in=[])
    for rule in rules():
        condition |= _within(rule, horizon)
    return _subject().filter(condition)


def forget_stale(now: datetime) -> int:
    """A date announced earlier that no longer holds (viewed since, the policy changed to keep...): dropped."""
    in_window = _due_ids(now).values("pk")
    stale = MediaEntry.objects.filter(deletion_due_at__isnull=False).exclude(pk__in=in_window)
    return stale.update(deletion_due_at=None)


def bin_due(now: datetime) -> int:
    """Recordings whose announced date has come, and whose rule still says so, go to the recycle bin."""
    binned = 0
    due = _due_ids(now).filter(deletion_due_at__lte=now).order_by("deletion_due_at")
    for entry in due[:BATCH]:
        services.delete_entry(entry=entry, by=None)
        binned += 1
    return binned


def purge_due(now: datetime) -> int:
    """The bin's entries past their time are deleted for good (each once, however many sweeps run)."""
    ids = list(
        MediaEntry.all_objects.filter(deleted_at__isnull=False, purge_after__lte=now)
        .order_by("purge_after")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(1 for entry_id in ids if services.purge_entry(entry_id=entry_id))


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    done = {"forgotten": forget_stale(now), "warned": warn(now), "binned": bin_due(now), "purged": purge_due(now)}
    if any(done.values()):
        logger.info("retention sweep: %s", done)
    return done
