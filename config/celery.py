"""The Celery app: tasks autodiscovered from every Django app, settings under CELERY_."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("liverec")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Heavy media work has its own queue so it never delays the sweep or publishing notices.
app.conf.task_queues = (Queue("default"), Queue("media"))
app.autodiscover_tasks()
