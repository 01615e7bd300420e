"""Every error of the API as RFC 9457 problem details (`application/problem+json`).

A problem has `type`, `title`, `status` and `detail`; `type` is "about:blank" (the status
says what kind of problem it is, RFC 9457 section 4.2.1), and the extension member `code`
names it for a program (DRF's error codes: "not_authenticated", "invalid", "throttled", ...);
a validation problem adds `errors`, the messages per field. The same shape for errors DRF
raises, for unknown paths under /api/ and for an unexpected exception (500: logged here,
since it does not reach Django's handler).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


def problem(status: int, detail: str, *, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def _first_message(errors: Any) -> str:
    """A sentence for `detail` from DRF's nested error structure (its first message)."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field in ("non_field_errors", "detail") else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an API error: a bug. Logged with its traceback like Django's 500s, answered in shape.
        view = context.get("view")
        logger.error("API request failed in %s", type(view).__name__, exc_info=exc)
        set_rollback()
        body = problem(500, "Something went wrong on our side; please try again.", code="server_error")
        response = Response(body, status=500)
    else:
        api_exc = exc if isinstance(exc, exceptions.APIException) else _converted(exc)
        data = response.data
        if isinstance(api_exc, exceptions.ValidationError):
            errors = data if isinstance(data, dict) else {"non_field_errors": data}
            body = problem(
                response.status_code, _first_message(errors) or "Invalid input.", code="invalid", errors=errors
            )
        else:
            detail = data.get("detail") if isinstance(data, dict) else None
            body = problem(response.status_code, str(detail or api_exc.detail), code=_code_of(api_exc))
        response.data = body
    response.content_type = CONTENT_TYPE
    return response


def _converted(exc: Exception) -> exceptions.APIException:
    """Django's Http404 and PermissionDenied, as DRF's handler turned them into responses."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    return exceptions.APIException()


def problem_response(status: int, detail: str, *, code: str) -> HttpResponse:
    """A problem answered by a plain Django view (outside DRF)."""
    return HttpResponse(json.dumps(problem(status, detail, code=code)), status=status, content_type=CONTENT_TYPE)


@csrf_exempt  # it changes nothing; a POST without a CSRF cookie must still get this problem, not an HTML 403
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any path under /api/ that names nothing: a problem, not the site's HTML 404 page."""
    return problem_response(404, "There is nothing at this address.", code="not_found")


# --- The schema: every operation documents the problems it may answer ------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type ('about:blank')."},
        "title": {"type": "string", "description": "The HTTP status phrase."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "What went wrong, for a program."},
        "errors": {
            "type": "object",
            "description": "Validation problems only: the messages per field.",
            "additionalProperties": True,
        },
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ALWAYS = {
    "401": "Not authenticated: no token, or one that is unknown, revoked or expired.",
    "403": "Authenticated, but not allowed (or a session request without its CSRF token).",
    "404": "Not found, or not visible to you: the two answer the same.",
    "406": "The Accept header asks for something other than JSON.",
    "429": "Too many requests with this token; `Retry-After` says when to try again.",
}
WITH_INPUT = {
    "400": "The input is not valid; `errors` says why, per field.",
    "415": "The body is not JSON.",
}
# Answers only some operations give, by operation id.
SPECIFIC = {"start_recording": {"409": "There is no live session in this room (open the room to start one)."}}


def document_problems(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the Problem component and the error answers of each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = dict(ALWAYS)
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if "requestBody" in operation or has_query:
                answers.update(WITH_INPUT)
            if "requestBody" not in operation:
                answers.pop("415", None)
            answers.update(SPECIFIC.get(operation.get("operationId", ""), {}))
            for status, description in answers.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": {CONTENT_TYPE: {"schema": PROBLEM_REF}}}
                )
    return result
