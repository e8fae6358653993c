"""Invitations: admins invite by email (the link goes out by the configured mail mode), list the
open ones and withdraw them; the invited person, signed in with that email, accepts with the
link's token by a click (a POST): opening the link alone joins nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Forbidden
from traytic.db.access import OrgAccess, Permission, check_grant
from traytic.db.errors import NotFound
from traytic.db.models import User
from traytic.db.repositories import invitations, organisations
from traytic.query.access import provide_org_access
from traytic.query.context import QueryContext
from traytic.query.schemas import AcceptInvitationIn, InvitationIn, InvitationOut, OrganisationOut

log = structlog.get_logger()


def invitation_link(public_url: str, token: str) -> str:
    """The token rides in the fragment: browsers send it in no request and no Referer."""
    return f"{public_url.rstrip('/')}/invite#token={token}"


class InvitationController(Controller):
    path = "/api/orgs/{org_id:uuid}/invitations"
    tags = ["organisations"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/")
    async def list_invitations(
        self, access: NamedDependency[OrgAccess], db_session: NamedDependency[AsyncSession]
    ) -> list[InvitationOut]:
        """Open invitations (admins and owners)."""
        access.require(Permission.MANAGE_INVITATIONS)
        rows = await invitations.list_open_invitations(db_session, access.organisation.id)
        return [InvitationOut.of(row) for row in rows]

    @post("/", status_code=201)
    async def invite(
        self,
        data: JSONBody[InvitationIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> InvitationOut:
        """Invite someone by email; the link is delivered after the invitation is saved."""
        access.require(Permission.MANAGE_INVITATIONS)
        check_grant(access.role, data.role)
        invitation, token = await invitations.create_invitation(
            db_session,
            access.organisation.id,
            email=data.email,
            role=data.role,
            invited_by_id=access.user.id if access.user else None,
            ttl=timedelta(seconds=ctx.settings.invitation_lifetime_s),
        )
        await ctx.mailer.send_invitation(
            db_session,
            invitation_id=invitation.id,
            email=invitation.email,
            organisation=access.organisation.name,
            link=invitation_link(ctx.settings.public_url, token),
        )
        return InvitationOut.of(invitation)

    @delete("/{invitation_id:uuid}", status_code=204)
    async def revoke_invitation(
        self,
        invitation_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        """Withdraw an open invitation (admins and owners): its link stops working at once."""
        access.require(Permission.MANAGE_INVITATIONS)
        await invitations.revoke_invitation(db_session, access.organisation.id, invitation_id)
        log.info("invitation_revoked", invitation_id=str(invitation_id))


@post("/api/invitations/accept", tags=["organisations"])
async def accept_invitation(
    data: JSONBody[AcceptInvitationIn],
    user: NamedDependency[User],
    db_session: NamedDependency[AsyncSession],
) -> OrganisationOut:
    """Join the organisation the invitation is for; it must have been sent to your email."""
    invitation = await invitations.get_open_invitation(db_session, data.token)
    if invitation is None:
        raise NotFound("invitation is unknown, expired or already used", field="token")
    if invitation.email != user.email:
        raise Forbidden("this invitation was sent to another email address", field="token")
    membership = await invitations.accept_invitation(db_session, data.token, user.id)
    organisation = await organisations.get_organisation(db_session, membership.organisation_id)
    assert organisation is not None
    log.info("invitation_accepted", invitation_id=str(invitation.id), user_id=str(user.id))
    return OrganisationOut.of(organisation, membership.role)
