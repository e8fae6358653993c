"""`/api/orgs/{orgId}/keys`: API keys for the stats API (admins and owners only)."""

from __future__ import annotations

import uuid

import structlog
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, Permission
from traytic.db.repositories import api_keys
from traytic.query.access import provide_org_access
from traytic.query.context import QueryContext
from traytic.query.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut
from traytic.query.unit_of_work import after_commit

log = structlog.get_logger()


class ApiKeyController(Controller):
    path = "/api/orgs/{org_id:uuid}/keys"
    tags = ["api keys"]
    dependencies = {"access": Provide(provide_org_access)}

    @get("/")
    async def list_keys(
        self, access: NamedDependency[OrgAccess], db_session: NamedDependency[AsyncSession]
    ) -> list[ApiKeyOut]:
        """Live keys, by prefix; the secrets cannot be shown again. `needsReview` marks keys
        whose creator has left the organisation."""
        access.require(Permission.MANAGE_API_KEYS)
        rows = await api_keys.list_api_keys(db_session, access.organisation.id)
        review = await api_keys.keys_to_review(db_session, access.organisation.id)
        return [ApiKeyOut.of(row, needs_review=row.id in review) for row in rows]

    @post("/", status_code=201)
    async def create_key(
        self,
        data: JSONBody[ApiKeyIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> ApiKeyCreated:
        """A new key; `key` in the answer is the only time the secret is shown."""
        access.require(Permission.MANAGE_API_KEYS)
        row, key = await api_keys.create_api_key(
            db_session,
            access.organisation.id,
            name=data.name,
            created_by_id=access.user.id if access.user else None,
        )
        log.info("api_key_created", key_id=str(row.id), prefix=row.prefix)
        base = ApiKeyOut.of(row)
        return ApiKeyCreated(**{f: getattr(base, f) for f in ApiKeyOut.__struct_fields__}, key=key)

    @delete("/{key_id:uuid}", status_code=204)
    async def revoke_key(
        self,
        key_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> None:
        """Revoke now: requests with it answer 401, and its open live streams end."""
        access.require(Permission.MANAGE_API_KEYS)
        await api_keys.revoke_api_key(db_session, access.organisation.id, key_id)
        after_commit(db_session, ctx.announce_access_change)
        log.info("api_key_revoked", key_id=str(key_id))
