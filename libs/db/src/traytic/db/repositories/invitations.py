"""Invitations to join an organisation, redeemed with a token sent by email."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.errors import NotFound
from traytic.db.models import Invitation, Membership, utcnow
from traytic.db.models.accounts import ROLES
from traytic.db.repositories.organisations import add_member
from traytic.db.tokens import hash_token, new_token
from traytic.db.validation import check_choice, normalise_email


async def create_invitation(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    email: str,
    role: str,
    invited_by_id: uuid.UUID | None,
    ttl: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """The row and the token for the link; only the token's hash is stored."""
    now = now or utcnow()
    token = new_token()
    invitation = Invitation(
        organisation_id=organisation_id,
        email=normalise_email(email),
        role=check_choice("role", role, ROLES),
        token_hash=hash_token(token),
        invited_by_id=invited_by_id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invitation)
    await session.flush()
    return invitation, token


async def get_open_invitation(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> Invitation | None:
    """An invitation that is neither expired nor accepted."""
    result = await session.exec(
        select(Invitation).where(
            col(Invitation.token_hash) == hash_token(token),
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > (now or utcnow()),
        )
    )
    return result.first()


async def accept_invitation(
    session: AsyncSession, token: str, user_id: uuid.UUID, *, now: datetime | None = None
) -> Membership:
    """Make the user a member with the invited role; the token works once."""
    now = now or utcnow()
    invitation = await get_open_invitation(session, token, now=now)
    if invitation is None:
        raise NotFound("invitation is unknown, expired or already used", field="token")
    invitation.accepted_at = now
    session.add(invitation)
    return await add_member(session, invitation.organisation_id, user_id, invitation.role)


async def list_open_invitations(
    session: AsyncSession, organisation_id: uuid.UUID, *, now: datetime | None = None
) -> list[Invitation]:
    result = await session.exec(
        select(Invitation)
        .where(
            col(Invitation.organisation_id) == organisation_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > (now or utcnow()),
        )
        .order_by(col(Invitation.created_at).desc())
    )
    return list(result.all())


async def revoke_invitation(
    session: AsyncSession, organisation_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation:
    """End an open invitation now (its link stops working; the row stays, as a record);
    `NotFound` for one of another organisation, or one already accepted or expired."""
    now = utcnow()
    result = await session.exec(
        select(Invitation).where(
            col(Invitation.id) == invitation_id,
            col(Invitation.organisation_id) == organisation_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > now,
        )
    )
    invitation = result.first()
    if invitation is None:
        raise NotFound("no such open invitation", field="invitation_id")
    invitation.expires_at = now
    session.add(invitation)
    await session.flush()
    return invitation
