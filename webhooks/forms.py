"""The endpoint form of the admin: the URL checked by webhooks.targets, the events as checkboxes."""

from __future__ import annotations

from typing import Any

from django import forms

from webhooks import services, targets
from webhooks.models import SUBSCRIBABLE, Endpoint


class EndpointForm(forms.ModelForm):
    url = forms.CharField(
        label="URL",
        max_length=targets.URL_MAX,
        help_text="Where events are POSTed, e.g. https://lms.example.edu/hooks/meetings.",
        widget=forms.URLInput(attrs={"size": 70}),
    )
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event. started: the session is being recorded; stopped: capture "
        "ended; completed: the recording is in the library; failed: it could not be made (with the "
        "reason); entry.deleted: a media entry was deleted.",
    )

    class Meta:
        model = Endpoint
        fields = ("url", "description", "room", "events", "is_active")

    def clean_url(self) -> str:
        return targets.validate_url(self.cleaned_data.get("url") or "")

    def clean_events(self) -> list[str]:
        return services.clean_events(self.cleaned_data.get("events") or [])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.instance.secret = services.new_secret()


# What each event means, next to its checkbox on the room owner's page.
EVENT_HELP: dict[str, str] = {
    "recording.started": "the session is being recorded",
    "recording.stopped": "capture ended",
    "recording.completed": "the recording is in the library, with a download link",
    "recording.failed": "it could not be made, with the reason",
    "entry.deleted": "a media entry of the room was deleted",
}


class RoomEndpointForm(forms.Form):
    """The room owner's page: a URL, what it is for, the events; the room is the page's."""

    url = forms.CharField(
        label="URL",
        max_length=targets.URL_MAX,
        help_text="Where events are POSTed, e.g. https://lms.example.edu/hooks/meetings.",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        error_messages={"required": "Enter the URL that should receive the events."},
    )
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="For you: what receives these events."
    )
    events = forms.MultipleChoiceField(
        label="Events", choices=SUBSCRIBABLE, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean_url(self) -> str:
        return targets.validate_url(self.cleaned_data.get("url") or "")

    def clean_events(self) -> list[str]:
        return services.clean_events(self.cleaned_data.get("events") or [])
