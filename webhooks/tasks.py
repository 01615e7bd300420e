"""Thin Celery tasks of the webhooks app: take ids, call a service."""

from __future__ import annotations

from celery import shared_task

from webhooks import services

# On their own queue (settings.CELERY_TASK_ROUTES): a receiver that takes its full timeout delays
# other webhooks only, never a recording's composition, publishing or a deadline.


@shared_task(name="webhooks.tasks.deliver", ignore_result=True, acks_late=True)
def deliver(delivery_id: int) -> None:
    services.attempt_delivery(delivery_id=delivery_id)


@shared_task(name="webhooks.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> None:
    services.queue_due()
