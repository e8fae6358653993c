"""`/api/auth/two-factor`: a signed-in person turns two-factor sign-in on (a secret for their
authenticator app, confirmed with a code; recovery codes shown once), sees it, renews the
recovery codes and turns it off (with a code). API keys get 403: this is a person's matter."""

from __future__ import annotations

import structlog
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Conflict, InvalidInput, TwoFactorUnavailable
from traytic.db.models import TwoFactor, User
from traytic.db.repositories import two_factor
from traytic.query import two_factor as totp
from traytic.query.auth_schemas import (
    CodeIn,
    RecoveryCodesOut,
    TwoFactorSetupOut,
    TwoFactorStatusOut,
)
from traytic.query.context import QueryContext
from traytic.query.endpoints.auth import json_only

log = structlog.get_logger()


async def _in_force(session: AsyncSession, user: User) -> TwoFactor:
    row = await two_factor.get_two_factor(session, user.id)
    if row is None or row.confirmed_at is None:
        raise Conflict("two-factor sign-in is not on", field="code")
    return row


async def _checked(
    session: AsyncSession, user: User, row: TwoFactor, code: str, ctx: QueryContext
) -> None:
    """400 naming `code` unless it is a fresh code (or an unused recovery code); wrong codes
    back off like those of a sign-in."""
    await ctx.login_limits.check_code(str(user.id))
    if not await totp.check_second_factor(session, ctx.keyring, row, code):
        await ctx.login_limits.code_failed(str(user.id))
        raise InvalidInput("wrong or already used code", field="code")


async def _new_recovery_codes(session: AsyncSession, user: User) -> RecoveryCodesOut:
    codes = totp.new_recovery_codes()
    await two_factor.replace_recovery_codes(
        session, user.id, [totp.recovery_code_hash(code) for code in codes]
    )
    return RecoveryCodesOut(recovery_codes=codes)


class TwoFactorController(Controller):
    path = "/api/auth/two-factor"
    tags = ["auth"]

    @get("/")
    async def status(
        self, user: NamedDependency[User], db_session: NamedDependency[AsyncSession]
    ) -> TwoFactorStatusOut:
        """Whether two-factor sign-in is on, and how many recovery codes are left."""
        enabled = await two_factor.has_two_factor(db_session, user.id)
        left = await two_factor.count_recovery_codes_left(db_session, user.id) if enabled else 0
        return TwoFactorStatusOut(enabled=enabled, recovery_codes_left=left)

    @post("/setup", status_code=201)
    async def setup(
        self,
        user: NamedDependency[User],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> TwoFactorSetupOut:
        """A new secret for the authenticator app; nothing changes until `/enable` gets a code
        from it. 409 while two-factor sign-in is on (turn it off first)."""
        if await two_factor.has_two_factor(db_session, user.id):
            raise Conflict("two-factor sign-in is already on: turn it off first")
        if not ctx.keyring.can_seal:
            # Stored, the secret would be a second factor for whoever copies the database.
            raise TwoFactorUnavailable(
                "two-factor sign-in is off on this server: its operator must set TRAYTIC_SECRET_KEY"
            )
        secret = totp.new_secret()
        await two_factor.start_enrolment(
            db_session, user.id, totp.sealed_secret(ctx.keyring, user.id, secret)
        )
        uri = totp.otpauth_uri(secret, user.email, ctx.settings.two_factor_issuer)
        return TwoFactorSetupOut(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))

    @post("/enable", status_code=200, guards=[json_only])
    async def enable(
        self,
        data: JSONBody[CodeIn],
        user: NamedDependency[User],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> RecoveryCodesOut:
        """Confirm the new secret with a code from the app: two-factor sign-in is on, and the
        recovery codes are shown, this once."""
        row = await two_factor.get_two_factor(db_session, user.id)
        if row is None or row.confirmed_at is not None:
            raise Conflict("start with /api/auth/two-factor/setup", field="code")
        await _checked(db_session, user, row, data.code, ctx)
        await two_factor.confirm(db_session, row)
        log.info("two_factor_enabled", user_id=str(user.id))
        return await _new_recovery_codes(db_session, user)

    @post("/recovery-codes", status_code=200, guards=[json_only])
    async def renew_recovery_codes(
        self,
        data: JSONBody[CodeIn],
        user: NamedDependency[User],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> RecoveryCodesOut:
        """New recovery codes (the old ones stop working), with a code from the app."""
        await _checked(db_session, user, await _in_force(db_session, user), data.code, ctx)
        return await _new_recovery_codes(db_session, user)

    @post("/disable", status_code=204, guards=[json_only])
    async def disable(
        self,
        data: JSONBody[CodeIn],
        user: NamedDependency[User],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> None:
        """Turn two-factor sign-in off, with a code from the app or a recovery code."""
        await _checked(db_session, user, await _in_force(db_session, user), data.code, ctx)
        await two_factor.remove(db_session, user.id)
        log.info("two_factor_disabled", user_id=str(user.id))
