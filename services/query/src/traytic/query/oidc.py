"""Single sign-on with OpenID Connect, as a client (authlib for the OAuth 2 exchange, joserfc
for the ID token): discovery, the authorization-code flow with PKCE (S256), `state` and
`nonce`, and the ID token verified against the provider's JWKS (signature, issuer, audience,
expiry, nonce). Which account that proves is decided in `endpoints/oidc.py`: by verified email
only.

The provider's discovery document and keys are fetched once and kept; a token signed with a
key that is not in them makes the keys be fetched again once (the provider rotated them).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from traytic.core.errors import (
    ConfigurationError,
    Forbidden,
    ServiceUnavailable,
    Unauthorized,
)
from traytic.query.settings import QuerySettings

log = structlog.get_logger()

ALGORITHMS = ["RS256", "ES256", "PS256"]
"""Asymmetric only: an HS256 token would be "signed" with our own client secret."""


@dataclass(frozen=True, slots=True)
class DomainRule:
    domain: str
    organisation_slug: str
    role: str


def parse_domain_rules(rules: list[str]) -> list[DomainRule]:
    """`example.com=acme:viewer` entries; a malformed one stops start-up with its text."""
    parsed = []
    for rule in rules:
        domain, _, target = rule.partition("=")
        slug, _, role = target.partition(":")
        role = role.strip() or "viewer"
        if not domain.strip() or not slug.strip() or role not in ("viewer", "admin"):
            raise ConfigurationError(
                f"TRAYTIC_OIDC_DOMAIN_ORGS entry {rule!r} must be domain=org-slug[:viewer|admin]"
            )
        parsed.append(DomainRule(domain.strip().lower(), slug.strip(), role))
    return parsed


@dataclass(frozen=True, slots=True)
class Identity:
    """What a verified ID token says about the person."""

    subject: str
    email: str
    email_verified: bool
    name: str | None


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser, and what its cookie keeps until the callback."""

    url: str
    state: str
    nonce: str
    verifier: str


class OidcClient:
    def __init__(self, settings: QuerySettings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.name = settings.oidc_name
        self.scopes = settings.oidc_scopes
        self.redirect_uri = f"{settings.public_url.rstrip('/')}/api/auth/oidc/callback"
        self.domain_rules = parse_domain_rules(settings.oidc_domain_orgs)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                response = await http.get(url)
                response.raise_for_status()
                body: dict[str, Any] = response.json()
                return body
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("oidc_provider_unreachable", url=url, error=type(exc).__name__)
            raise ServiceUnavailable("the sign-in provider does not answer: try later") from exc

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            found = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                log.error("oidc_issuer_mismatch", configured=self.issuer)
                raise ServiceUnavailable("the sign-in provider is misconfigured")
            self._metadata = found
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self.metadata()
            self._keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
        return self._keys

    async def start(self) -> Started:
        """The provider's authorization URL with a fresh state, nonce and PKCE verifier."""
        metadata = await self.metadata()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
        return Started(url=url, state=state, nonce=nonce, verifier=verifier)

    async def finish(self, *, code: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code (with the PKCE verifier) and verify the ID token; 401 when the
        token does not hold (forged, for another client, expired, another login's nonce)."""
        metadata = await self.metadata()
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=verifier
                )
            except Exception as exc:  # authlib's OAuthError, or the provider's transport
                log.info("oidc_code_refused", error=type(exc).__name__)
                raise Unauthorized("the sign-in provider refused the code", field="code") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthorized("the sign-in provider sent no ID token", field="code")
        claims = await self._verified_claims(id_token, nonce)
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise Forbidden("the sign-in provider did not share an email address", field="email")
        return Identity(
            subject=str(claims["sub"]),
            email=email,
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )

    async def _verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, await self._key_set(), algorithms=ALGORITHMS)
            except JoseError:
                # Perhaps the provider rotated its keys since we fetched them: once more.
                decoded = jwt.decode(id_token, await self._key_set(True), algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            log.warning("oidc_id_token_bad_signature", error=type(exc).__name__)
            raise Unauthorized(
                "the ID token's signature does not verify", field="id_token"
            ) from exc
        claims: dict[str, Any] = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(time.time()),
            leeway=60,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            log.warning("oidc_id_token_rejected", error=type(exc).__name__)
            raise Unauthorized(
                f"the ID token is not valid ({exc.error})", field="id_token"
            ) from exc
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            log.warning("oidc_id_token_wrong_audience")
            raise Unauthorized("the ID token was issued to another client", field="id_token")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
            claims["nonce"], nonce
        ):
            log.warning("oidc_id_token_wrong_nonce")
            raise Unauthorized("the ID token belongs to another sign-in", field="id_token")
        return claims
