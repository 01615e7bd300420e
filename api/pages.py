"""The API tokens settings page: a person makes and revokes their personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.forms import TokenForm
from meetings.http import AuthenticatedHttpRequest


def _page(request: AuthenticatedHttpRequest, form: TokenForm, *, issued: services.IssuedToken | None = None,
          status: int = 200) -> HttpResponse:  # fmt: skip
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": selectors.tokens_of(user=request.user), "issued": issued},
        status=status,
    )
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the secret is in this page: never kept by a cache
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        issued = services.issue_token(
            user=request.user, name=form.cleaned_data["name"], expires_in_days=form.cleaned_data["expires_in_days"]
        )
    except services.TokenError as exc:
        form.add_error(None, str(exc))
        return _page(request, form, status=400)
    # Answered here, not after a redirect: the secret is shown this once and stored nowhere.
    return _page(request, TokenForm(), issued=issued, status=201)


@login_required
@require_POST
def revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.revoke_token(user=request.user, token_id=token_id)
    except services.TokenError:
        return _page(request, TokenForm(), status=404)
    messages.success(request, f"“{token.name}” is revoked; programs using it are refused from now on.")
    return HttpResponseRedirect(reverse("api:tokens"))
