"""Thin Celery tasks of the meetings app: load, call a service."""

from __future__ import annotations

from celery import shared_task

from meetings import deadlines


@shared_task(name="meetings.tasks.sweep_sessions", ignore_result=True)
def sweep_sessions() -> None:
    deadlines.sweep()
