"""Sites, always scoped to an organisation: a query for organisation A never sees B's sites.

Deleting is soft (`deleted_at`): tracking stops at once and the site can be restored; `purge_site`
removes the row for good (the warehouse rows are the caller's to drop first).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Site, utcnow
from traytic.db.validation import (
    check_reporting_currency,
    check_text,
    check_time_zone,
    normalise_domain,
    normalise_hostnames,
)


async def create_site(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    domain: str,
    name: str | None = None,
    time_zone: str = "UTC",
    public: bool = False,
    allowed_hostnames: Sequence[str] = (),
    allow_localhost: bool = False,
    filter_datacenter: bool = True,
    site_id: str | None = None,
    currency: str = "USD",
) -> Site:
    """A new site with a fresh `st_...` id (or `site_id`, for a registry rebuilt elsewhere)."""
    domain = normalise_domain(domain)
    site = Site(
        organisation_id=organisation_id,
        domain=domain,
        name=check_text("name", name, max_length=100) if name else domain,
        time_zone=check_time_zone(time_zone),
        public=_check_bool("public", public),
        allowed_hostnames=normalise_hostnames(allowed_hostnames),
        allow_localhost=_check_bool("allow_localhost", allow_localhost),
        filter_datacenter=_check_bool("filter_datacenter", filter_datacenter),
        currency=check_reporting_currency(currency),
    )
    if site_id is not None:
        site.id = check_text("site_id", site_id, max_length=32)
    session.add(site)
    await session.flush()
    return site


async def get_site(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    site_id: str,
    *,
    include_deleted: bool = False,
) -> Site | None:
    """The site if it belongs to the organisation; another organisation's site is None, the
    same answer as a site that does not exist."""
    statement = select(Site).where(
        col(Site.id) == site_id, col(Site.organisation_id) == organisation_id
    )
    if not include_deleted:
        statement = statement.where(col(Site.deleted_at).is_(None))
    result = await session.exec(statement)
    return result.first()


async def list_sites(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    *,
    search: str | None = None,
    include_deleted: bool = False,
) -> list[Site]:
    """The organisation's sites by name; deleted ones (if asked for) after the live ones.

    `nulls_first()` is spelled out: SQLite and PostgreSQL put NULLs at opposite ends.
    """
    statement = select(Site).where(col(Site.organisation_id) == organisation_id)
    if not include_deleted:
        statement = statement.where(col(Site.deleted_at).is_(None))
    if search:
        needle = check_text("search", search, max_length=253)
        statement = statement.where(
            col(Site.domain).icontains(needle, autoescape=True)
            | col(Site.name).icontains(needle, autoescape=True)
        )
    statement = statement.order_by(
        col(Site.deleted_at).desc().nulls_first(), col(Site.name), col(Site.id)
    )
    result = await session.exec(statement)
    return list(result.all())


_UNSET: Any = object()


async def update_site(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    site_id: str,
    *,
    domain: str = _UNSET,
    name: str = _UNSET,
    time_zone: str = _UNSET,
    public: bool = _UNSET,
    allowed_hostnames: Sequence[str] = _UNSET,
    allow_localhost: bool = _UNSET,
    filter_datacenter: bool = _UNSET,
    currency: str = _UNSET,
) -> Site:
    """Change the given fields only; `NotFound` for a site outside the organisation."""
    site = await _require(session, organisation_id, site_id)
    if domain is not _UNSET:
        site.domain = normalise_domain(domain)
    if name is not _UNSET:
        site.name = check_text("name", name, max_length=100)
    if time_zone is not _UNSET:
        site.time_zone = check_time_zone(time_zone)
    if public is not _UNSET:
        site.public = _check_bool("public", public)
    if allowed_hostnames is not _UNSET:
        site.allowed_hostnames = normalise_hostnames(allowed_hostnames)
    if allow_localhost is not _UNSET:
        site.allow_localhost = _check_bool("allow_localhost", allow_localhost)
    if filter_datacenter is not _UNSET:
        site.filter_datacenter = _check_bool("filter_datacenter", filter_datacenter)
    if currency is not _UNSET:
        site.currency = check_reporting_currency(currency)
    session.add(site)
    await session.flush()
    return site


async def soft_delete_site(session: AsyncSession, organisation_id: uuid.UUID, site_id: str) -> Site:
    site = await _require(session, organisation_id, site_id)
    site.deleted_at = utcnow()
    session.add(site)
    await session.flush()
    return site


async def restore_site(session: AsyncSession, organisation_id: uuid.UUID, site_id: str) -> Site:
    site = await get_site(session, organisation_id, site_id, include_deleted=True)
    if site is None or site.deleted_at is None:
        raise NotFound("no such deleted site", field="site_id")
    site.deleted_at = None
    session.add(site)
    await session.flush()
    return site


async def purge_site(session: AsyncSession, organisation_id: uuid.UUID, site_id: str) -> None:
    """Remove a soft-deleted site for good, with its goals and alerts (ON DELETE CASCADE)."""
    result = await session.exec(
        delete(Site).where(
            col(Site.id) == site_id,
            col(Site.organisation_id) == organisation_id,
            col(Site.deleted_at).is_not(None),
        )
    )
    if result.rowcount == 0:
        raise NotFound("no such deleted site", field="site_id")


async def list_sites_to_purge(session: AsyncSession, *, deleted_before: datetime) -> list[Site]:
    """Soft-deleted sites past their grace period, across organisations (a purge job)."""
    result = await session.exec(
        select(Site)
        .where(col(Site.deleted_at).is_not(None), col(Site.deleted_at) < deleted_before)
        .order_by(col(Site.deleted_at))
    )
    return list(result.all())


async def list_all_live_sites(session: AsyncSession) -> list[Site]:
    """Every live site of every organisation: for rebuilding the gateway's registry at start."""
    result = await session.exec(
        select(Site).where(col(Site.deleted_at).is_(None)).order_by(col(Site.id))
    )
    return list(result.all())


async def _require(session: AsyncSession, organisation_id: uuid.UUID, site_id: str) -> Site:
    site = await get_site(session, organisation_id, site_id)
    if site is None:
        raise NotFound("no such site", field="site_id")
    return site


def _check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


async def find_site_by_domain(
    session: AsyncSession, organisation_ids: Sequence[uuid.UUID], domain: str
) -> Site | None:
    """A live site with this domain in one of the organisations (the oldest, when several)."""
    if not organisation_ids:
        return None
    statement = (
        select(Site)
        .where(
            col(Site.domain) == domain.strip().lower(),
            col(Site.organisation_id).in_(list(organisation_ids)),
            col(Site.deleted_at).is_(None),
        )
        .order_by(col(Site.created_at))
    )
    return (await session.exec(statement)).first()
