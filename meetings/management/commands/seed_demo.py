"""Idempotent demo data: one person per role, a single room, a channel with its room."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from meetings import services

DEMO_PASSWORD = "demo1234"


class Command(BaseCommand):
    help = "Create (or refresh) the demo users, rooms and channel, and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        demo = services.seed_demo(password=DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, what in demo.logins:
            self.stdout.write(f"  {username:<12} {what}")
