"""Fixtures shared by the whole suite."""

from __future__ import annotations

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
