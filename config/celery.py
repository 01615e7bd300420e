"""The Celery app: tasks autodiscovered from every Django app, settings under CELERY_."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("liverec")
# The queues, their routes and the broker's key prefix are named per deployment in settings
# (DEPLOYMENT_NAMESPACE): media work and the sweeps have queues of their own (docs/decisions/0013).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
