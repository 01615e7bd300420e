"""The tests play the learning platform: its RSA key, its JWKS served on loopback by a real HTTP server,
its login initiation, and id_tokens built and signed as a platform signs them."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from django.test import Client
from jwcrypto.jwk import JWK
from lti_tool.models import LtiDeployment, LtiRegistration

from tests.library.conftest import base_mp4, library_settings, mp4_file  # noqa: F401 (fixtures)

ISSUER = "https://lms.example.edu"
CLIENT_ID = "meetings-tool"
DEPLOYMENT_ID = "deployment-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTRUCTOR = [f"{MEMBERSHIP}#Instructor"]
TEACHING_ASSISTANT = [f"{MEMBERSHIP}#Instructor", f"{MEMBERSHIP}/Instructor#TeachingAssistant"]
LEARNER = [f"{MEMBERSHIP}#Learner"]


class _JwksHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Platform:
    """A learning platform registered with the tool."""

    key: JWK
    jwks_url: str
    registration: LtiRegistration
    launched: list[dict[str, Any]] = field(default_factory=list)

    def start_login(self, client: Client) -> dict[str, str]:
        """Third-party login initiation, as the platform's browser redirect; returns the auth request's params."""
        params = {
            "iss": ISSUER,
            "login_hint": "opaque-hint",
            "target_link_uri": "http://testserver/lti/launch/",
            "lti_message_hint": "opaque-message",
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }
        check = client.get("/lti/login/", params)
        # pylti1p3 first answers a page that checks cookies work, then comes back in a new window.
        assert check.status_code == 200 and b"lti1p3_new_window" in check.content
        response = client.get("/lti/login/", {**params, "lti1p3_new_window": "1"})
        assert response.status_code == 302, response.content
        location = urlparse(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.registration.auth_url
        auth = {key: values[0] for key, values in parse_qs(location.query).items()}
        assert auth["client_id"] == CLIENT_ID and auth["redirect_uri"] == "http://testserver/lti/launch/"
        assert auth["state"] and auth["nonce"] and auth["response_mode"] == "form_post"
        assert client.cookies.get(f"lti1p3-{auth['state']}") is not None  # the state cookie
        return auth

    def id_token(
        self, auth: dict[str, str], *, sub: str, roles: list[str], key: JWK | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": auth["nonce"],
            "name": f"Person {sub}",
            "email": f"{sub}@lms.example.edu",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "target_link_uri": auth["redirect_uri"],
            LTI + "resource_link": {"id": "link-1", "title": "Live class"},
            LTI + "context": {"id": "course-101", "label": "BIO101", "title": "Biology 101"},
            LTI + "roles": roles,
        }
        body.update(claims)
        signer = key or self.key
        pem = signer.export_to_pem(private_key=True, password=None)
        return jwt.encode(body, pem, algorithm="RS256", headers={"kid": signer["kid"]})

    def launch(self, client: Client, *, sub: str, roles: list[str], **claims: Any) -> Any:
        """Login initiation, then the platform's form post of a signed id_token to the launch URL."""
        auth = self.start_login(client)
        token = self.id_token(auth, sub=sub, roles=roles, **claims)
        self.launched.append({"state": auth["state"], "id_token": token})
        return client.post("/lti/launch/", {"id_token": token, "state": auth["state"]})


@pytest.fixture
def platform_jwks() -> Iterator[tuple[JWK, str]]:
    """The platform's key, its public JWKS served by a real HTTP server on loopback."""
    key = JWK.generate(kty="RSA", size=2048, kid=f"platform-{uuid.uuid4().hex[:8]}")
    handler = type(
        "Handler", (_JwksHandler,), {"body": json.dumps({"keys": [json.loads(key.export_public())]}).encode()}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield key, f"http://127.0.0.1:{server.server_address[1]}/jwks"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def platform(db, platform_jwks: tuple[JWK, str]) -> Platform:
    key, url = platform_jwks
    registration = LtiRegistration.objects.create(
        name="Example LMS",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        auth_url=f"{ISSUER}/auth",
        token_url=f"{ISSUER}/token",
        keyset_url=url,
    )
    LtiDeployment.objects.create(registration=registration, deployment_id=DEPLOYMENT_ID, is_active=True)
    return Platform(key=key, jwks_url=url, registration=registration)
