"""Every model is in the admin: its changelist and add page work for staff and for nobody else."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

ADMIN_MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"meetings", "recordings", "media_library"}
)
# Consent answers are given by the person in the room and pauses made by hosts there, never added by
# staff (issue 12).
NO_ADD_PAGE = {
    ("meetings", "livesession", "add"),
    ("recordings", "consentanswer", "add"),
    ("recordings", "recordingpause", "add"),
    # What was presented is written by the room only (the recording draws from it).
    ("meetings", "presentation", "add"),
    ("meetings", "presentationevent", "add"),
    # Speakers are invited in the room, which tells their sockets (decision 0035).
    ("meetings", "speaker", "add"),
}


def test_every_domain_model_is_registered() -> None:
    from django.apps import apps

    domain = {
        (m._meta.app_label, m._meta.model_name)
        for label in ("meetings", "recordings", "media_library")
        for m in apps.get_app_config(label).get_models()
    }
    assert domain == set(ADMIN_MODELS)


@pytest.mark.django_db
@pytest.mark.parametrize("app_label,model_name", ADMIN_MODELS)
@pytest.mark.parametrize("page", ["changelist", "add"])
def test_staff_sees_admin_pages(client, demo, app_label: str, model_name: str, page: str) -> None:
    client.force_login(demo.users["admin"])
    response = client.get(reverse(f"admin:{app_label}_{model_name}_{page}"))
    # Sessions are opened by people joining, never added in the admin (test_admin_sessions.py).
    expected = 403 if (app_label, model_name, page) in NO_ADD_PAGE else 200
    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("app_label,model_name", ADMIN_MODELS)
@pytest.mark.parametrize("who", ["anonymous", "host", "outsider"])
def test_others_are_sent_to_admin_login(client, demo, app_label: str, model_name: str, who: str) -> None:
    if who != "anonymous":
        client.force_login(demo.users[who])
    for page in ("changelist", "add"):
        url = reverse(f"admin:{app_label}_{model_name}_{page}")
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_recording_state_is_read_only_in_admin(client, demo) -> None:
    from tests.foundation.test_constraints import make_recording, make_session

    rec = make_recording(make_session(demo.rooms["single"]), error="decoder exploded")
    client.force_login(demo.users["admin"])
    page = client.get(reverse("admin:recordings_recording_change", args=[rec.pk])).content.decode()
    assert "decoder exploded" in page
    assert 'name="state"' not in page and 'name="error"' not in page
    listing = client.get(reverse("admin:recordings_recording_changelist")).content.decode()
    assert "decoder exploded" in listing


def test_histories_shown_under_their_parent_are_read_only(rf) -> None:
    """Transitions, consent answers, pauses, presentation events and delivery attempts are written by
    the product only (core.admin.ReadOnlyInline): no field editable, no row added or deleted."""
    from django.contrib import admin as django_admin

    from core.admin import ReadOnlyInline
    from meetings.models import Presentation
    from recordings.models import Recording
    from webhooks.models import Delivery

    request = rf.get("/admin/")
    seen = []
    for model in (Recording, Presentation, Delivery):
        parent = django_admin.site._registry[model]
        for inline_class in parent.inlines:
            if not issubclass(inline_class, ReadOnlyInline):
                continue
            inline = inline_class(model, django_admin.site)
            seen.append(inline_class.__name__)
            assert tuple(inline.get_readonly_fields(request)) == tuple(inline.fields)
            assert not inline.has_add_permission(request, None) and not inline.can_delete
    assert {
        "TransitionInline",
        "ConsentAnswerInline",
        "PauseInline",
        "PresentationEventInline",
        "AttemptInline",
    } <= set(seen)
