"""`/api/auth`: sign up (by emailed link), log in, log out, and who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import TooManyAttempts, Unauthorized, UnsupportedMediaType
from traytic.db.access import Caller, require_user
from traytic.db.errors import DuplicateError, NotFound
from traytic.db.models import User
from traytic.db.repositories import (
    login_sessions,
    organisations,
    signup_requests,
    two_factor,
    users,
)
from traytic.db.validation import check_text, normalise_email
from traytic.query import accounts
from traytic.query.auth import clear_session_cookies, client_address, set_session_cookies
from traytic.query.auth_schemas import (
    ConfirmSignupIn,
    LoginCodeIn,
    SignupAcceptedOut,
    TwoFactorNeededOut,
)
from traytic.query.context import QueryContext
from traytic.query.passwords import MAX_PASSWORD_LENGTH, check_password
from traytic.query.schemas import ApiKeyOut, LoginIn, MeOut, OrganisationOut, SignupIn, UserOut
from traytic.query.two_factor import check_second_factor
from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()


async def _me_for_user(
    db_session: NamedDependency[AsyncSession], user: NamedDependency[User]
) -> MeOut:
    memberships = await organisations.list_organisations_for_user(db_session, user.id)
    return MeOut(
        kind="user",
        user=UserOut.of(user),
        organisations=[OrganisationOut.of(org, role) for org, role in memberships],
        two_factor=await two_factor.has_two_factor(db_session, user.id),
    )


async def start_session(db_session: AsyncSession, ctx: QueryContext, user: User) -> str:
    """A login session for `user`; the token for the cookie."""
    _, token = await login_sessions.create_login_session(
        db_session,
        user.id,
        ttl=timedelta(seconds=ctx.settings.session_lifetime_s),
    )
    return token


async def _signed_in(
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
    user: NamedDependency[User],
    status_code: int,
) -> Response[MeOut]:
    token = await start_session(db_session, ctx, user)
    response = Response(await _me_for_user(db_session, user), status_code=status_code)
    set_session_cookies(response, token, ctx.settings)
    return response


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Login CSRF: a form on another site can post `text/plain` or form bodies to us without
    asking first, never `application/json`; so these routes take nothing else."""
    media_type = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`", field="Content-Type"
        )


async def _password_holder(
    data: LoginIn, address: str, db_session: AsyncSession, ctx: QueryContext
) -> User:
    """The user whose email and password these are, or 401 (the same for an unknown email);
    429 while the limits of `traytic.query.login_limits` make this account or address wait."""
    try:
        await ctx.login_limits.check_login(data.email, address)
    except TooManyAttempts:
        log.warning("login_rate_limited")
        raise
    user = await users.get_user_by_email(db_session, data.email)
    password = data.password[:MAX_PASSWORD_LENGTH]
    valid = await ctx.passwords.verify(user.password_hash if user is not None else None, password)
    if user is None or not valid or len(data.password) > MAX_PASSWORD_LENGTH:
        await ctx.login_limits.login_failed(data.email, address)
        log.info("login_failed")
        raise Unauthorized("wrong email or password")
    await ctx.login_limits.login_succeeded(data.email, address)
    log.info("login_succeeded", user_id=str(user.id))
    return user


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/signup", status_code=202, guards=[json_only])
    async def signup(
        self,
        data: JSONBody[SignupIn],
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> SignupAcceptedOut:
        """Ask for an account: 202 and a mail to the address, the same answer whether it has an
        account or not (a stranger learns nothing). A new address gets the link that makes the
        account and signs in (`POST /api/auth/signup/confirm`); an address with an account gets
        a note that someone tried, and where to sign in. Limited per client address
        (`signup_rate_limit` an hour) and per email (`signup_email_limit`)."""
        email = normalise_email(data.email)
        check_password(data.password, min_length=ctx.settings.password_min_length, email=email)
        name = check_text("name", data.name, max_length=100) if data.name else None
        # Counted once the input is valid: these are the attempts that hash and send a mail.
        await ctx.login_limits.check_signup(client_address(request, ctx), email)
        # Hashed either way, so the answer takes as long for a registered address as a new one.
        password_hash = await ctx.passwords.hash(data.password)
        public_url = ctx.settings.public_url.rstrip("/")
        if await users.get_user_by_email(db_session, email) is None:
            _, token = await signup_requests.create_signup_request(
                db_session,
                email=email,
                password_hash=password_hash,
                name=name,
                ttl=timedelta(seconds=ctx.settings.signup_link_lifetime_s),
            )
            # The token rides in the fragment: browsers send it in no request and no Referer.
            link = f"{public_url}/signup/confirm#token={token}"
            await ctx.mailer.send_signup_link(db_session, email=email, link=link)
        else:
            login_link = f"{public_url}/login"
            await ctx.mailer.send_signup_existing(db_session, email=email, login_link=login_link)
        log.info("signup_requested")
        return SignupAcceptedOut(
            email=email, message=f"we sent a mail to {email}: follow its link to go on"
        )

    @post("/signup/confirm", status_code=201, guards=[json_only])
    async def confirm_signup(
        self,
        data: JSONBody[ConfirmSignupIn],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> Response[MeOut]:
        """Use the sign-up link's token: the account and its personal organisation (you are
        its owner) are made, and you are signed in. The token works once."""
        pending = await signup_requests.get_open_signup_request(db_session, data.token)
        if pending is None:
            raise NotFound("this sign-up link is unknown, expired or already used", field="token")
        if await users.get_user_by_email(db_session, pending.email) is not None:
            raise DuplicateError("email", "this address already has an account: sign in")
        user, organisation = await accounts.sign_up(
            db_session, email=pending.email, password_hash=pending.password_hash, name=pending.name
        )
        await signup_requests.delete_signup_requests(db_session, pending.email)
        log.info("user_signed_up", user_id=str(user.id), organisation_id=str(organisation.id))
        return await _signed_in(db_session, ctx, user, 201)

    @post("/login", status_code=200, guards=[json_only])
    async def login(
        self,
        data: JSONBody[LoginIn],
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> Response[Any]:
        """Sign in; a wrong password and an unknown email get the same 401. Failures back off
        per account and address (see `traytic.query.login_limits`): 429 with `Retry-After`.
        With two-factor sign-in on, no session yet: 202 and a `pendingToken` for `/login/code`."""
        # Two steps: who the credentials prove, then a session for them. A second factor
        # (or an SSO callback, which proves a user its own way) goes between the two.
        user = await _password_holder(data, client_address(request, ctx), db_session, ctx)
        if await two_factor.has_two_factor(db_session, user.id):
            token = await two_factor.create_pending_login(
                db_session, user.id, ttl=timedelta(seconds=ctx.settings.two_factor_pending_s)
            )
            return Response(
                TwoFactorNeededOut(two_factor_required=True, pending_token=token), status_code=202
            )
        return await _signed_in(db_session, ctx, user, 200)

    @post("/login/code", status_code=200, guards=[json_only])
    async def login_code(
        self,
        data: JSONBody[LoginCodeIn],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> Response[MeOut]:
        """The second step of a sign-in with two factors: the login's `pendingToken` (202 of
        `/login`) and a code from the authenticator app, or a recovery code. A wrong code is
        401; wrong codes back off per account (429 with `Retry-After`)."""
        pending = await two_factor.get_pending_login(db_session, data.pending_token)
        if pending is None:
            raise Unauthorized(
                "the sign-in has expired: enter your password again", field="pendingToken"
            )
        user_id = str(pending.user_id)
        await ctx.login_limits.check_code(user_id)
        row = await two_factor.get_two_factor(db_session, pending.user_id)
        user = await users.get_user(db_session, pending.user_id)
        if row is None or row.confirmed_at is None or user is None:
            raise Unauthorized("the sign-in has expired: enter your password again")
        if not await check_second_factor(db_session, ctx.keyring, row, data.code):
            await ctx.login_limits.code_failed(user_id)
            log.info("login_code_failed", user_id=user_id)
            raise Unauthorized("wrong or already used code", field="code")
        if not await two_factor.finish_pending_login(db_session, pending):
            raise Unauthorized("the sign-in has expired: enter your password again")
        await ctx.login_limits.code_succeeded(user_id)
        log.info("login_code_succeeded", user_id=user_id)
        return await _signed_in(db_session, ctx, user, 200)

    @post("/logout", status_code=204)
    async def logout(
        self,
        caller: NamedDependency[Caller],
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> Response[None]:
        """End this browser's session (needs the CSRF header, like every cookie write)."""
        require_user(caller)
        token = request.cookies.get(ctx.settings.session_cookie, "")
        await login_sessions.delete_login_session(db_session, token)
        after_commit(db_session, ctx.announce_access_change)  # its live streams end
        response = Response(None, status_code=204)
        clear_session_cookies(response, ctx.settings)
        return response

    @get("/me")
    async def me(
        self, caller: NamedDependency[Caller], db_session: NamedDependency[AsyncSession]
    ) -> MeOut:
        """The signed-in user and their organisations, or the API key and its organisation."""
        if caller.user is not None:
            return await _me_for_user(db_session, caller.user)
        key = caller.api_key
        if key is None:
            raise Unauthorized("sign in first")
        organisation = await organisations.get_organisation(db_session, key.organisation_id)
        if organisation is None:
            raise Unauthorized("unknown or revoked API key")
        return MeOut(
            kind="api_key",
            api_key=ApiKeyOut.of(key),
            organisations=[OrganisationOut.of(organisation, "viewer")],
        )
