"""The product's own error pages in every mode, and error logs without tracebacks for refusals.

With ``DEBUG`` off Django answers errors with ``handler400/403/404/500``, whose defaults render
``templates/404.html`` and ``templates/500.html`` (and Django's plain 400 and 403 texts):
nothing to add. With ``DEBUG`` on (``make run``) Django answers with its technical pages
instead: the 404 one lists every URL pattern of the site, the 500 one (also used for a 400 such
as a bad Host header) the settings and the code, to anyone. ``DebugErrorPagesMiddleware``,
installed only when ``DEBUG`` is on and outermost, replaces any technical page by what the same
handlers answer with DEBUG off. Django has already logged the error (the 500's traceback) and
sent its signals by then, so nothing else changes (docs/decisions/0012).

The handlers themselves are Django's, wrapped (``handler400`` ... ``handler500`` in
config/urls.py) so that a body Django cannot parse never turns an error page into a 500: each
of Django's handlers checks the CSRF token (``requires_csrf_token``), which reads the form; on a
path that matches no view nothing has read it before, so a malformed multipart body, a form in
another charset or too many fields raised there, and the 404 became a 500.

``one_line_refusals`` keeps the log of a refused request (4xx) to one line: Django logs a bad
Host header, too many fields or an unparsable body with the exception's traceback, which for a
refused request says nothing but fills the log an operator reads for real faults.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.urls import get_resolver, get_urlconf
from django.views import defaults

logger = logging.getLogger(__name__)

SECURITY_LOGGER = "django.security"
# Said by Django's technical 404, 500 and CSRF-failure pages (HTML and text) and by no page of ours.
# The CSRF page breaks the line inside "DEBUG =\n  True": any white space between the words.
TECHNICAL_PAGE = re.compile(rb"because you have (?:<code>)?DEBUG\s*=\s*True")


def one_line_refusals(record: logging.LogRecord) -> bool:
    """A logging filter: the record of a refused request keeps its message, not the traceback.

    Refused: logged by Django's security logger, or with the 4xx status Django's ``log_response``
    attaches. A 5xx keeps its traceback.
    """
    refused = record.name == SECURITY_LOGGER or record.name.startswith(SECURITY_LOGGER + ".")
    status = getattr(record, "status_code", None)
    if refused or (isinstance(status, int) and status < 500):
        record.exc_info = None
        record.exc_text = None
    return True


def one_line_refusals_filter() -> Callable[[logging.LogRecord], bool]:
    """The factory ``LOGGING`` names (``"()"``): logging takes a plain callable as a filter."""
    return one_line_refusals


# What reading a request's form can raise (Django's own refusals of a body).
BODY_ERRORS = (MultiPartParserError, BadRequest, SuspiciousOperation, UnreadablePostError)


def _whatever_the_body(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Django's error view, answering even when the request's body cannot be read as a form.

    The view's CSRF check reads the form; if that fails, the form is marked empty (as Django
    marks it after a multipart error) and the page is made again: it needs no form.
    """

    @wraps(view)
    def handler(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except BODY_ERRORS:
            request._mark_post_parse_error()  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

    return handler


bad_request = _whatever_the_body(defaults.bad_request)
permission_denied = _whatever_the_body(defaults.permission_denied)
page_not_found = _whatever_the_body(defaults.page_not_found)
server_error = _whatever_the_body(defaults.server_error)


def is_technical_page(response: HttpResponseBase) -> bool:
    if response.streaming or response.status_code < 400:
        return False
    return isinstance(response, HttpResponse) and TECHNICAL_PAGE.search(response.content) is not None


def error_handler(status: int) -> Callable[..., HttpResponseBase]:
    """The site's handler400/403/404/500 (Django calls the first three with ``exception=``)."""
    return get_resolver(get_urlconf()).resolve_error_handler(status)


def product_page(request: HttpRequest, status: int) -> HttpResponseBase:
    """What Django's error handlers answer with DEBUG off, for this status."""
    if status == 404:
        return error_handler(404)(request, exception=Http404())
    if status == 403:
        return error_handler(403)(request, exception=PermissionDenied())
    if 400 <= status < 500:
        return error_handler(400)(request, exception=BadRequest())
    return error_handler(500)(request)


class ProductStaticFilesHandler(ASGIStaticFilesHandler):
    """The run command's static files (DEBUG), answering a missing file with the product's 404 page.

    Django's handler answers it with the technical 404 page, outside every middleware.
    """

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return await sync_to_async(self._serve_whole, thread_sensitive=False)(request)
        except Http404:
            return await sync_to_async(product_page, thread_sensitive=False)(request, 404)

    def _serve_whole(self, request: HttpRequest) -> HttpResponseBase:
        """The file read whole in a worker thread: Django's FileResponse would be streamed through the
        one thread that also runs every database call, so a page's two dozen modules (fetched at
        once, rel=modulepreload) came one after another behind the sockets' queries."""
        response = self.serve(request)
        if not isinstance(response, FileResponse):
            return response
        try:
            body = b"".join(response.streaming_content)  # type: ignore[arg-type]
        finally:
            response.close()
        whole = HttpResponse(body, status=response.status_code)
        for header, value in response.items():
            whole[header] = value
        return whole


class DebugErrorPagesMiddleware:
    """With DEBUG on, answer errors with the product's pages, as Django does with DEBUG off.

    Outermost, so that a technical page made by any layer (a view's Http404, an unmatched path,
    a bad Host header refused by a middleware, an exception anywhere) passes through it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not settings.DEBUG or not is_technical_page(response):
            return response
        try:
            replacement = product_page(request, response.status_code)
        except Exception:  # whatever failed, the answer must not be a technical page
            # The 404 page reads the signed-in person (the database); if that fails too, the
            # static 500 page, which needs nothing, is still better than the technical one.
            logger.exception("the %s page failed; answering with the 500 page", response.status_code)
            replacement = error_handler(500)(request)
        # Django logged the original (with its traceback for a 500): not a second time.
        replacement._has_been_logged = getattr(response, "_has_been_logged", False)  # type: ignore[attr-defined]
        return replacement
