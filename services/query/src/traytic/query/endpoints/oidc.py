"""`/api/auth/oidc`: single sign-on with the OpenID Connect provider of the settings.

`start` sends the browser to the provider with a fresh state, nonce and PKCE verifier, which an
HttpOnly cookie keeps (SameSite=Lax: the provider's redirect back is a top-level GET, which
carries it; a forged callback from another site has no matching state). `callback` checks the
state, lets `traytic.query.oidc` verify the ID token, then matches the person by email, and
only by a verified email: an unverified one would let anyone who controls a provider account
claim someone else's address. The domain rules then make them a member where they belong.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

import structlog
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Forbidden, InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import User
from traytic.db.repositories import organisations, two_factor, users
from traytic.db.validation import normalise_email
from traytic.query import accounts
from traytic.query.auth import set_session_cookies
from traytic.query.auth_schemas import SsoProviderOut
from traytic.query.context import QueryContext
from traytic.query.endpoints.auth import start_session
from traytic.query.oidc import Identity

log = structlog.get_logger()

FLOW_COOKIE = "traytic_oidc"
FLOW_PATH = "/api/auth/oidc"
FLOW_LIFETIME_S = 600
NO_PASSWORD = "!sso"  # noqa: S105 - not a password: a hash no password matches
"""The password hash of accounts made by single sign-on: no password ever matches it."""


class SsoOff(NotFound):
    def __init__(self) -> None:
        super().__init__("single sign-on is not set up on this server")


async def _person(session: AsyncSession, ctx: QueryContext, identity: Identity) -> User:
    """The account the verified email belongs to (made when allowed), with the domain rules
    applied."""
    if not identity.email_verified:
        raise Forbidden("the sign-in provider has not verified this email address", field="email")
    email = normalise_email(identity.email)
    user = await users.get_user_by_email(session, email)
    if user is None:
        if not ctx.settings.oidc_create_accounts:
            raise Forbidden("no account has this email: ask for an invitation", field="email")
        user, _ = await accounts.sign_up(
            session, email=email, password_hash=NO_PASSWORD, name=identity.name
        )
        log.info("user_signed_up", user_id=str(user.id), via="oidc")
    domain = email.rsplit("@", 1)[1]
    for rule in ctx.oidc.domain_rules:
        if rule.domain != domain:
            continue
        organisation = await organisations.get_organisation_by_slug(session, rule.organisation_slug)
        if organisation is None:
            log.warning("oidc_domain_rule_unknown_org", slug=rule.organisation_slug)
            continue
        if await organisations.get_membership(session, organisation.id, user.id) is None:
            await organisations.add_member(session, organisation.id, user.id, rule.role)
            log.info("oidc_domain_member_added", organisation_id=str(organisation.id))
    return user


class OidcController(Controller):
    path = FLOW_PATH
    tags = ["auth"]

    @get("/")
    async def provider(self, ctx: NamedDependency[QueryContext]) -> SsoProviderOut:
        """Whether single sign-on is on and what the login page calls it (public)."""
        return SsoProviderOut(enabled=ctx.oidc.enabled, name=ctx.oidc.name)

    @get("/start")
    async def start(self, ctx: NamedDependency[QueryContext]) -> Redirect:
        """To the provider's sign-in page (302)."""
        if not ctx.oidc.enabled:
            raise SsoOff()
        started = await ctx.oidc.start()
        redirect = Redirect(started.url, status_code=302)
        redirect.set_cookie(
            key=FLOW_COOKIE,
            value=f"{started.state}.{started.nonce}.{started.verifier}",
            max_age=FLOW_LIFETIME_S,
            path=FLOW_PATH,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.cookies_secure,
        )
        return redirect

    @get("/callback")
    async def callback(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
        code: FromQuery[str | None] = None,
        returned_state: Annotated[str | None, Parameter(query="state")] = None,
        error: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Where the provider sends the browser back: signed in, then to the dashboard (302).
        A refusal of any check is a 4xx that says which."""
        if not ctx.oidc.enabled:
            raise SsoOff()
        if error:
            raise Forbidden(f"the sign-in provider said: {error[:100]}", field="error")
        kept_state, _, rest = request.cookies.get(FLOW_COOKIE, "").partition(".")
        nonce, _, verifier = rest.partition(".")
        if not kept_state or not verifier:
            raise InvalidInput("the sign-in took too long or began elsewhere: start again")
        if not returned_state or not secrets.compare_digest(returned_state, kept_state):
            raise InvalidInput("the sign-in's state does not match: start again", field="state")
        if not code:
            raise InvalidInput("the provider sent no code", field="code")
        identity = await ctx.oidc.finish(code=code, verifier=verifier, nonce=nonce)
        user = await _person(db_session, ctx, identity)
        response: Response[Any]
        if await two_factor.has_two_factor(db_session, user.id):
            # The provider vouched for the person; the second factor they turned on is still
            # asked for: the login page takes the pending login from the fragment.
            pending = await two_factor.create_pending_login(
                db_session, user.id, ttl=timedelta(seconds=ctx.settings.two_factor_pending_s)
            )
            response = Redirect(f"/login#twoFactor={pending}", status_code=302)
        else:
            token = await start_session(db_session, ctx, user)
            log.info("login_succeeded", user_id=str(user.id), via="oidc")
            response = Redirect("/", status_code=302)
            set_session_cookies(response, token, ctx.settings)
        response.delete_cookie(key=FLOW_COOKIE, path=FLOW_PATH)
        return response
