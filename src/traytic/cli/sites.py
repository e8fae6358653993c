"""`traytic site` and `traytic key`: operator commands against the same database (and the same
KV registry) as the query service, for scripts and for installs without the dashboard."""

from __future__ import annotations

import argparse
import contextlib
import uuid
from collections.abc import AsyncIterator

from nats.js.kv import KeyValue
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core import bus
from traytic.core.errors import InvalidInput
from traytic.core.settings import load_settings
from traytic.core.sites import SITE_DECODER, SiteRecord
from traytic.db import Database
from traytic.db.errors import NotFound
from traytic.db.migrate import migrate
from traytic.db.models import Site
from traytic.db.repositories import organisations
from traytic.db.settings import DbSettings
from traytic.query import provision


@contextlib.asynccontextmanager
async def _connected() -> AsyncIterator[tuple[Database, KeyValue]]:
    db_settings = load_settings(DbSettings)
    bus_settings = load_settings(bus.BusSettings)
    await migrate(db_settings)
    db = Database.from_settings(db_settings)
    nc = await bus.connect(bus_settings, name="traytic-cli")
    try:
        yield db, await bus.ensure_sites_bucket(nc.jetstream(), bus_settings)
    finally:
        await bus.close(nc)
        await db.dispose()


async def migrated_database() -> Database:
    """The relational database of the settings, migrated (the CLI runs before any service may
    have); dispose of it when done."""
    db_settings = load_settings(DbSettings)
    await migrate(db_settings)
    return Database.from_settings(db_settings)


async def live_site(session: AsyncSession, site_id: str) -> Site:
    """The site `--site` names, unless deleted: a 404 naming the option otherwise."""
    site = await session.get(Site, site_id)
    if site is None or site.deleted_at is not None:
        raise NotFound(f"no site {site_id!r}", field="--site")
    return site


async def _organisation(db: Database, slug: str | None) -> uuid.UUID:
    async with db.session() as session:
        if slug:
            found = await organisations.get_organisation_by_slug(session, slug)
            if found is None:
                raise InvalidInput(f"no organisation with slug {slug!r}", field="--org")
            return found.id
        rows = await organisations.list_organisations(session, limit=2)
    if len(rows) != 1:
        raise InvalidInput(
            "name the organisation with --org (sign up first if there is none)", field="--org"
        )
    return rows[0].id


async def run_site_command(args: argparse.Namespace) -> int:
    async with _connected() as (db, kv):
        if args.site_command == "create":
            organisation_id = await _organisation(db, args.org)
            site = await provision.create_site(
                db,
                organisation_id,
                args.domain,
                name=args.name,
                kv=kv,
                allowed_hostnames=args.allowed_hostname,
                allow_localhost=args.allow_localhost,
                filter_datacenter=not args.keep_datacenter,
            )
            print(site.id)
        elif args.site_command == "list":
            for key in sorted(await bus.kv_keys(kv)):
                entry = await kv.get(key)
                if entry.value:
                    record = SITE_DECODER.decode(entry.value)
                    print("\t".join([record.site_id, record.domain, _rules(record)]))
    return 0


def _rules(record: SiteRecord) -> str:
    """What else the gateway accepts for the site, or drops, in a few words."""
    rules = [f"also {host}" for host in record.allowed_hostnames]
    if record.allow_localhost:
        rules.append("localhost")
    if not record.filter_datacenter:
        rules.append("keeps datacenter traffic")
    return ", ".join(rules) or "-"


async def run_key_command(args: argparse.Namespace) -> int:
    async with _connected() as (db, _):
        organisation_id = await _organisation(db, args.org)
        _, key = await provision.create_api_key(db, organisation_id, args.name)
        print(key)
    return 0
