"""The product's own 404 and 500 pages in every mode (item 16): never Django's technical pages.

`make run` runs with DEBUG on, where Django answers a 404 with a page listing every URL pattern
and an error with the settings and the code. Real Daphne processes in both modes; the 500 is a
real fault: the database the server is given does not answer (nothing listens on its port).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.test import Client

from tests.hardening.conftest import OwnServer, own_server
from tests.live.conftest import csrf_pair, session_cookie

TECHNICAL = ("DEBUG = True", "URLconf", "urlpatterns", "Traceback", "SECRET_KEY", "INSTALLED_APPS")
NO_DATABASE = "postgres://postgres@127.0.0.1:1/nowhere"  # port 1: connection refused at once


def assert_product_page(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert text in response.text and "Meetings" in response.text, response.text[:500]
    for marker in TECHNICAL:
        assert marker not in response.text, marker


@pytest.fixture(scope="module", params=["1", "0"], ids=["debug", "production"])
def server(request, tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[OwnServer]:
    with own_server(tmp_path_factory.mktemp("errors"), DEBUG=request.param) as own:
        yield own


@pytest.mark.django_db(transaction=True)
def test_not_found_and_not_allowed_get_the_product_404(server, demo) -> None:
    room = demo.rooms["single"]
    cookie = session_cookie(Client(), demo.users["outsider"])
    with httpx.Client(base_url=server.url, cookies={"sessionid": cookie}, timeout=30) as client:
        assert_product_page(client.get("/no/such/page/"), 404, "Page not found")  # no URL pattern
        assert_product_page(client.get(f"/rooms/{room.pk}/"), 404, "Page not found")  # a view's Http404
        assert_product_page(client.get("/media/987654/"), 404, "Page not found")
        # CommonMiddleware's APPEND_SLASH still redirects first.
        assert client.get("/my-media").status_code == 301
        bad_host = client.get("/login/", headers={"Host": "evil.example"})
        assert bad_host.status_code == 400
        assert not any(marker in bad_host.text for marker in TECHNICAL)
    assert "Traceback" not in server.log_text()  # refusals are logged in one line


def test_a_body_django_cannot_read_does_not_turn_a_404_into_a_500(server) -> None:
    """Django's error pages check the CSRF token, which reads the form: on a path no view matches,
    nothing has read it before, and an unparsable body made the 404 a 500 (found by the fuzzer)."""
    part = b'Content-Disposition: form-data; name="f%d"; filename="a"\r\n\r\nv\r\n'
    bodies = [
        # Bodies Twisted takes (it answers some malformed multipart 400 itself) and Django cannot read:
        ("multipart/form-data; boundary=" + "x" * 300, b"--" + b"x" * 300 + b"\r\n"),  # "Invalid boundary"
        ("multipart/form-data; boundary=xyz", b"".join(b"--xyz\r\n" + part % i for i in range(120)) + b"--xyz--\r\n"),
        ("application/x-www-form-urlencoded; charset=latin-1", b"a=b"),  # a form must be UTF-8
        ("application/x-www-form-urlencoded", b"&".join(b"f%d=1" % i for i in range(1500))),  # too many fields
    ]
    token, _ = csrf_pair()  # with a CSRF cookie, the token check goes on to read the form
    with httpx.Client(base_url=server.url, timeout=30, cookies={"csrftoken": token}) as client:
        for content_type, body in bodies:
            response = client.post("/no/such/page/", content=body, headers={"Content-Type": content_type})
            assert_product_page(response, 404, "Page not found")
    assert "Traceback" not in server.log_text()


def test_a_bad_host_on_a_static_path_is_a_400(server) -> None:
    """With DEBUG on, Django's static handler answers a missing file with its technical 404 page,
    which reads the Host: a refused one made it a 500 (found by the fuzzer)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for path in ("/static/no-such-file.css", "/static/css/app.css"):
            response = client.get(path, headers={"Host": "evil.example"})
            assert response.status_code == 400, (path, response.status_code)
        assert client.get("/static/css/app.css").status_code in (200, 404)  # 404 with DEBUG off: the proxy serves them
    assert "Traceback" not in server.log_text()


@pytest.mark.parametrize("debug", ["1", "0"], ids=["debug", "production"])
def test_the_500_page_is_served_when_the_database_is_down(tmp_path: Path, debug: str) -> None:
    with own_server(tmp_path, DATABASE_URL=NO_DATABASE, DEBUG=debug) as server:
        with httpx.Client(base_url=server.url, cookies={"sessionid": "x" * 32}, timeout=30) as client:
            response = client.get("/")  # reading the session needs the database
        assert_product_page(response, 500, "Something went wrong")
        assert "css/app.css" in response.text  # it looks like the product
        log = server.log_text()
    assert "Internal Server Error: /" in log  # the fault is logged for the operator, traceback included


@pytest.mark.django_db
def test_in_process_pages_are_the_products(client, demo) -> None:
    """The test process runs with DEBUG off: Django's handlers render the same templates."""
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b"Page not found" in response.content
    assert b"Your rooms" in response.content


def test_a_missing_static_file_gets_the_product_404(server) -> None:
    """The run command serves static files itself (DEBUG); a missing one got Django's technical page."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert_product_page(client.get("/static/no-such-file.css"), 404, "Page not found")
