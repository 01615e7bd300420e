from __future__ import annotations

from django import forms

from api.services import EXPIRY_DAYS, NAME_MAX

EXPIRY_CHOICES = [(days, f"{days} days") for days in EXPIRY_DAYS]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=NAME_MAX, help_text="What the token is for, e.g. “LMS sync” or “backup script”."
    )
    expires_in_days = forms.TypedChoiceField(label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=90)
