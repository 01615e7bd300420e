"""Queue a Celery task by its registered name, after the current transaction commits.

Services queue work by name, so a services module never imports its app's tasks module (tasks
import services; the reverse would close an import cycle). The name resolves to the same task
object the tasks module registers, so eager mode and tests that replace `apply_async` behave alike.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def enqueue_on_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """Queue `name(*args)` once the surrounding transaction commits (the worker must see what we saw)."""

    def send() -> None:
        if name not in current_app.tasks:
            # Outside a worker nothing has imported the apps' tasks modules yet: autodiscover now.
            current_app.loader.import_default_modules()
        task = current_app.tasks[name]
        if countdown:
            task.apply_async(args=args, countdown=countdown)
        else:
            task.apply_async(args=args)

    transaction.on_commit(send)
