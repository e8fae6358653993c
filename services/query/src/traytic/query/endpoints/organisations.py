"""`/api/orgs`: the caller's organisations; create, read, rename one, and require two-factor
sign-in of its members."""

from __future__ import annotations

import structlog
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import Conflict
from traytic.db.access import OrgAccess, Permission
from traytic.db.models import Role, User
from traytic.db.repositories import organisations, two_factor
from traytic.query import accounts
from traytic.query.access import provide_org_access
from traytic.query.schemas import OrganisationIn, OrganisationOut, OrganisationPatch

log = structlog.get_logger()


class OrganisationController(Controller):
    path = "/api/orgs"
    tags = ["organisations"]

    @get("/")
    async def list_organisations(
        self, user: NamedDependency[User], db_session: NamedDependency[AsyncSession]
    ) -> list[OrganisationOut]:
        """The organisations you belong to, with your role in each."""
        rows = await organisations.list_organisations_for_user(db_session, user.id)
        return [OrganisationOut.of(organisation, role) for organisation, role in rows]

    @post("/", status_code=201)
    async def create_organisation(
        self,
        data: JSONBody[OrganisationIn],
        user: NamedDependency[User],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganisationOut:
        """A new organisation with you as its owner."""
        organisation = await accounts.create_organisation(
            db_session, name=data.name, slug=data.slug, owner_id=user.id
        )
        log.info("organisation_created", organisation_id=str(organisation.id))
        return OrganisationOut.of(organisation, Role.OWNER.value)

    @get("/{org_id:uuid}", dependencies={"access": Provide(provide_org_access)})
    async def get_organisation(self, access: NamedDependency[OrgAccess]) -> OrganisationOut:
        return OrganisationOut.of(access.organisation, access.role)

    @patch("/{org_id:uuid}", dependencies={"access": Provide(provide_org_access)})
    async def update_organisation(
        self,
        data: JSONBody[OrganisationPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> OrganisationOut:
        """Rename (admins and owners); require two-factor sign-in of every member (owners,
        once they have it on themselves: an owner cannot lock themselves out)."""
        if data.name is not None:
            access.require(Permission.RENAME_ORGANISATION)
        if data.require_two_factor is not None:
            access.require(Permission.REQUIRE_TWO_FACTOR)
            assert access.user is not None  # provide_org_access: people only
            if data.require_two_factor and not await two_factor.has_two_factor(
                db_session, access.user.id
            ):
                raise Conflict(
                    "turn two-factor sign-in on for yourself before requiring it",
                    field="requireTwoFactor",
                )
        organisation = await organisations.update_organisation(
            db_session,
            access.organisation,
            name=data.name,
            require_two_factor=data.require_two_factor,
        )
        if data.require_two_factor:
            log.info("two_factor_required", organisation_id=str(organisation.id))
        return OrganisationOut.of(organisation, access.role)
