"""The OpenAPI schema: generated and validated as CI does, served with its documentation from
the product itself, and a bounded schemathesis run against the real API finds no server error
and no answer that breaks the schema."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import schemathesis
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from media_library.models import EntryCollaborator, ShareLink
from meetings.services import open_or_create_session
from tests.api.conftest import assert_problem

# Bounded: examples per operation, and the whole run's budget (checked below).
EXAMPLES_PER_OPERATION = 15
RUN_BUDGET_SECONDS = 60


@pytest.mark.django_db
def test_schema_generates_and_validates_without_warnings(tmp_path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/entries/", "/api/v1/rooms/{room_id}/recordings/start/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["personalToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["personalToken"]["description"],
    }
    # Every operation documents its problems, in the problem+json media type.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "404", "429"} <= set(operation["responses"]), (method, path)
            assert "application/problem+json" in operation["responses"]["404"]["content"]


@pytest.mark.django_db
def test_docs_are_served_from_the_product(client) -> None:
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(url).content.decode()
        assert "/api/v1/schema/" in html
        assert "/static/drf_spectacular_sidecar/" in html  # the assets are ours
        assert "cdn" not in html.lower() and "https://" not in html
        for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
            assert finders.find(asset), asset  # shipped by drf-spectacular-sidecar, collected with our static files
    schema = client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Meetings API"


@pytest.fixture
def wsgi_app_in_test_transaction() -> Iterator[object]:
    """Django's WSGI application, called in this thread: it sees the test's data. As Django's test
    client does, requests must not close the test's connection (its transaction) when they end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_schemathesis_finds_no_server_error_and_no_answer_off_schema(
    cast, publish, token_for, wsgi_app_in_test_transaction, settings_
) -> None:
    room = cast.room("single")
    open_or_create_session(room=room)
    entry = publish("single")
    link = ShareLink.objects.create(entry=entry, created_by=entry.owner)
    collaborator = EntryCollaborator.objects.filter(entry=entry).first()
    headers = {"Authorization": f"Bearer {token_for('host')}"}
    # Real ids, so the cases also reach past the 404s into the operations themselves.
    real = {
        "room_id": room.pk,
        "entry_id": entry.pk,
        "link_id": link.pk,
        "user_id": collaborator.user_id if collaborator else cast.users["coeditor"].pk,
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app_in_test_transaction)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    started = time.monotonic()
    checked: list[str] = []
    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        fixed = {name: real[name] for name in names}
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if fixed:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same cases on every run: a failure is reproducible
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        run()
        checked.append(operation.label)
    assert time.monotonic() - started < RUN_BUDGET_SECONDS
    assert len(checked) == len(operations)


@pytest.fixture
def settings_(settings):
    """A rate no fuzzing run reaches (the rate itself has its own test)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"}}
    return settings


def test_problem_helper_is_strict() -> None:
    class Fake:
        status_code = 404
        content = b"{}"

        def __getitem__(self, name: str) -> str:
            return "text/html"

    with pytest.raises(AssertionError):
        assert_problem(Fake(), 404)
