"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import socket

import pytest

from meetings import services
from meetings.services import DemoData

DEMO_PASSWORD = "demo1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo(db) -> DemoData:
    """The demo people, rooms and channel, as `manage.py seed_demo` makes them."""
    return services.seed_demo(password=DEMO_PASSWORD)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Remove this run's spool, media and work files (the database is dropped by pytest-django)."""
    import shutil

    from django.conf import settings

    run_dir = getattr(settings, "TEST_RUN_DIR", None)
    if run_dir is not None and not os.environ.get("KEEP_TEST_FILES"):
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _close_async_db_connections(django_db_setup, django_db_blocker):
    """Close the connection that `database_sync_to_async` opened on asgiref's one sync thread.

    Tests that drive the ASGI application in process leave it open, and PostgreSQL then refuses
    to drop the test database at the end ("being accessed by other users").
    """
    yield
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    with django_db_blocker.unblock():
        asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())
