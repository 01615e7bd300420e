"""The admin's LTI pages: django-lti's registrations (with their deployments) are registered by
lti_tool itself; here the tool's signing keys, and what launches made (decision 0021)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from jwcrypto.jwk import JWK
from lti_tool.models import Key

from lti.models import CourseRoom, PlatformAccount


@admin.register(Key)
class ToolKeyAdmin(admin.ModelAdmin):
    """The tool's RSA keys: active ones are published at /lti/jwks/ and the newest signs.

    Adding one generates a fresh pair (the private key is never shown); to rotate, add a key,
    then deactivate the old one once platforms have fetched the new JWKS.
    """

    list_display = ["__str__", "is_active", "datetime_created"]
    fields = ["is_active", "public_key", "datetime_created"]
    readonly_fields = ["public_key", "datetime_created"]

    def save_model(self, request: HttpRequest, obj: Key, form: object, change: bool) -> None:
        if not change:
            jwk = JWK.generate(kty="RSA", size=2048)
            obj.public_key = jwk.export_to_pem().decode()
            obj.private_key = jwk.export_to_pem(private_key=True, password=None).decode()
        super().save_model(request, obj, form, change)


@admin.register(PlatformAccount)
class PlatformAccountAdmin(admin.ModelAdmin):
    list_display = ["subject", "issuer", "user", "last_launch_at"]
    search_fields = ["subject", "issuer", "user__username", "user__display_name"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "last_launch_at"]


@admin.register(CourseRoom)
class CourseRoomAdmin(admin.ModelAdmin):
    list_display = ["context", "room", "created_at"]
    raw_id_fields = ["context", "room"]
    readonly_fields = ["created_at"]
