"""Thin Celery tasks of the meetings app: load, call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="meetings.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> None:
    from meetings import deadlines

    deadlines.sweep()
