"""Sites scoped to an organisation: CRUD, soft delete and purge, isolation, ordering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation
from traytic.core.errors import InvalidInput
from traytic.db import NotFound
from traytic.db.models import Goal
from traytic.db.repositories import sites


async def test_create_site_normalises_and_defaults(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(
        session,
        organisation.id,
        domain="Blog.Example.COM.",
        time_zone="Africa/Lagos",
        allowed_hostnames=["example.com", "*.Example.com", "example.com"],
    )
    assert site.id.startswith("st_")
    assert (site.domain, site.name, site.public) == ("blog.example.com", "blog.example.com", False)
    assert site.allowed_hostnames == ["example.com", "*.example.com"]
    assert (site.allow_localhost, site.filter_datacenter) == (False, True)
    assert await sites.get_site(session, organisation.id, site.id) == site


async def test_ingest_rules_are_stored_and_changed_alone(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(
        session, organisation.id, domain="a.com", allow_localhost=True, filter_datacenter=False
    )
    await sites.update_site(session, organisation.id, site.id, filter_datacenter=True)
    again = await sites.get_site(session, organisation.id, site.id)
    assert again is not None
    assert (again.allow_localhost, again.filter_datacenter) == (True, True)


async def test_update_changes_only_given_fields(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(session, organisation.id, domain="a.com", name="A")
    await sites.update_site(session, organisation.id, site.id, public=True, name="Renamed")
    assert (site.name, site.public, site.domain, site.time_zone) == (
        "Renamed",
        True,
        "a.com",
        "UTC",
    )
    with pytest.raises(InvalidInput) as caught:
        await sites.update_site(session, organisation.id, site.id, time_zone="Mars/Olympus")
    assert caught.value.field == "time_zone"


async def test_soft_delete_restore_and_purge(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(session, organisation.id, domain="a.com")
    with pytest.raises(NotFound):
        await sites.purge_site(session, organisation.id, site.id)  # live sites are not purged

    await sites.soft_delete_site(session, organisation.id, site.id)
    assert await sites.get_site(session, organisation.id, site.id) is None
    assert await sites.list_sites(session, organisation.id) == []
    assert await sites.list_all_live_sites(session) == []
    future = datetime.now(UTC) + timedelta(days=1)
    assert await sites.list_sites_to_purge(session, deleted_before=future) == [site]

    await sites.restore_site(session, organisation.id, site.id)
    assert await sites.get_site(session, organisation.id, site.id) == site
    await sites.soft_delete_site(session, organisation.id, site.id)
    await sites.purge_site(session, organisation.id, site.id)
    session.expunge_all()
    assert await sites.get_site(session, organisation.id, site.id, include_deleted=True) is None


async def _goal_ids(session: AsyncSession) -> list[object]:
    return list((await session.exec(select(Goal.id))).all())


async def test_purge_cascades_to_goals(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(session, organisation.id, domain="a.com")
    session.add(Goal(site_id=site.id, name="Signup", kind="pageview", match="/signup*"))
    await session.flush()
    await sites.soft_delete_site(session, organisation.id, site.id)
    await sites.purge_site(session, organisation.id, site.id)
    assert await _goal_ids(session) == []


async def test_organisation_with_sites_cannot_be_deleted(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    await sites.create_site(session, organisation.id, domain="a.com")
    await session.delete(organisation)
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_an_organisation_never_sees_another_organisations_sites(
    session: AsyncSession,
) -> None:
    a = await make_organisation(session)
    b = await make_organisation(session)
    site_a = await sites.create_site(session, a.id, domain="a.com")
    site_b = await sites.create_site(session, b.id, domain="b.com")

    assert await sites.list_sites(session, a.id, include_deleted=True) == [site_a]
    assert await sites.list_sites(session, a.id, search="b.com") == []
    assert await sites.get_site(session, a.id, site_b.id, include_deleted=True) is None
    for change in (
        sites.update_site(session, a.id, site_b.id, name="stolen"),
        sites.soft_delete_site(session, a.id, site_b.id),
        sites.purge_site(session, a.id, site_b.id),
    ):
        with pytest.raises(NotFound):
            await change
    await sites.soft_delete_site(session, b.id, site_b.id)
    with pytest.raises(NotFound):
        await sites.restore_site(session, a.id, site_b.id)
    assert site_b.name == "b.com"


async def test_list_puts_live_sites_before_deleted_ones_on_both_dialects(
    session: AsyncSession,
) -> None:
    """NULLs sort first in SQLite and last in PostgreSQL unless the query says which."""
    organisation = await make_organisation(session)
    old = await sites.create_site(session, organisation.id, domain="old.com", name="A old")
    live = await sites.create_site(session, organisation.id, domain="live.com", name="Z live")
    await sites.soft_delete_site(session, organisation.id, old.id)
    listed = await sites.list_sites(session, organisation.id, include_deleted=True)
    assert [site.id for site in listed] == [live.id, old.id]


async def test_search_is_case_insensitive(session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    site = await sites.create_site(session, organisation.id, domain="shop.com", name="My Shop")
    assert await sites.list_sites(session, organisation.id, search="my SHOP") == [site]
    assert await sites.list_sites(session, organisation.id, search="SHOP.COM") == [site]
    assert await sites.list_sites(session, organisation.id, search="s_op") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "a" * 64 + ".com"}, "domain"),
        ({"domain": "x.com", "name": "n" * 101}, "name"),
        ({"domain": "x.com", "time_zone": "../../etc/passwd"}, "time_zone"),
        ({"domain": "x.com", "public": "yes"}, "public"),
        ({"domain": "x.com", "allowed_hostnames": ["ok.com", "bad host"]}, "allowed_hostnames[1]"),
        ({"domain": "x.com", "allowed_hostnames": ["https://x.com/"]}, "allowed_hostnames[0]"),
        ({"domain": "x.com", "allowed_hostnames": ["ok.com", "*.com"]}, "allowed_hostnames[1]"),
        ({"domain": "x.com", "allowed_hostnames": "x.com"}, "allowed_hostnames"),
        ({"domain": "x.com", "allow_localhost": "yes"}, "allow_localhost"),
        ({"domain": "x.com", "filter_datacenter": 1}, "filter_datacenter"),
    ],
)
async def test_bad_site_input_names_the_field(
    session: AsyncSession, changes: dict[str, object], field: str
) -> None:
    organisation = await make_organisation(session)
    with pytest.raises(InvalidInput) as caught:
        await sites.create_site(session, organisation.id, **changes)  # type: ignore[arg-type]
    assert caught.value.field == field
