"""A stand-in OpenID Connect provider on a local port, following the contracts a real one
keeps: discovery, `/authorize` (authorization code with PKCE S256, state and nonce passed
through), `/token` (client authentication, the code verifier checked against the challenge,
codes used once) and `/jwks`, with ID tokens really signed (RS256, joserfc).

Whoever opens `/authorize` is taken to be `user` (no login form: the test is the person).
`claims` overrides what the next ID tokens say (another audience, another nonce), and
`forge` signs them with a key that is not in the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "traytic-test"
CLIENT_SECRET = "stand-in provider's client secret"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str


@dataclass
class StandInProvider:
    user: dict[str, Any] = field(
        default_factory=lambda: {"sub": "u-1", "email": "ann@example.com", "email_verified": True}
    )
    claims: dict[str, Any] = field(default_factory=dict)
    forge: bool = False
    redirect_uri: str = "http://localhost:3001/api/auth/oidc/callback"
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    )
    forger: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    )
    grants: dict[str, Grant] = field(default_factory=dict)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                provider.handle_get(self)

            def do_POST(self) -> None:
                provider.handle_post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    # ---- HTTP

    def handle_get(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        if url.path == "/.well-known/openid-configuration":
            _json(request, 200, self.discovery())
        elif url.path == "/jwks":
            _json(request, 200, KeySet([self.key]).as_dict(private=False))
        elif url.path == "/authorize":
            self.authorize(request, {k: v[0] for k, v in parse_qs(url.query).items()})
        else:
            _json(request, 404, {"error": "not_found"})

    def authorize(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        problems = [
            query.get("response_type") != "code" and "response_type",
            query.get("client_id") != CLIENT_ID and "client_id",
            query.get("redirect_uri") != self.redirect_uri and "redirect_uri",
            "openid" not in query.get("scope", "").split() and "scope",
            query.get("code_challenge_method") != "S256" and "code_challenge_method",
            not query.get("code_challenge") and "code_challenge",
        ]
        bad = [p for p in problems if p]
        if bad:
            _json(request, 400, {"error": "invalid_request", "error_description": bad[0]})
            return
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            CLIENT_ID, query["redirect_uri"], query.get("nonce"), query["code_challenge"]
        )
        back = {"code": code, "state": query.get("state", "")}
        request.send_response(302)
        request.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
        request.end_headers()

    def handle_post(self, request: BaseHTTPRequestHandler) -> None:
        if urlparse(request.path).path != "/token":
            _json(request, 404, {"error": "not_found"})
            return
        length = int(request.headers.get("content-length", "0"))
        form = {k: v[0] for k, v in parse_qs(request.rfile.read(length).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            _json(request, 401, {"error": "invalid_client"})
            return
        grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.redirect_uri != form.get("redirect_uri")
            or not secrets.compare_digest(challenge, grant.challenge)
        ):
            _json(request, 400, {"error": "invalid_grant"})
            return
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **self.user,
            **self.claims,
        }
        key = self.forger if self.forge else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        _json(
            request,
            200,
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
        )


def _json(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
