"""Operator commands without HTTP: what `traytic dev`, `traytic site create` and `traytic key
create` call against the same database (and the same KV registry) as the API.

Each function is one unit of work; the caller owns the `Database` (and the `KeyValue`, when
the registry should learn of a new site at once; otherwise the service's start-up rebuild will).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from nats.js.kv import KeyValue
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.sites import put_site
from traytic.db import Database
from traytic.db.models import Site
from traytic.db.repositories import api_keys, organisations, users
from traytic.db.repositories import sites as site_repository
from traytic.query import accounts
from traytic.query.passwords import Passwords, check_password
from traytic.query.registry import site_record


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """What `traytic dev` prints and writes to `.traytic/dev.json`."""

    email: str
    password: str
    organisation_id: uuid.UUID
    site_id: str
    api_key: str
    """The key the caller knew, while it still works; else a fresh one."""
    created: bool
    """The demo user was made now (with `password`); else it existed with its own password."""


async def ensure_demo_account(
    db: Database,
    *,
    email: str,
    password: str,
    domain: str = "localhost",
    kv: KeyValue | None = None,
    passwords: Passwords | None = None,
    known_key: str | None = None,
) -> DemoAccount:
    """The demo user, their organisation, a site and an API key; created on the first run,
    found again on later ones. Keys are stored only as hashes, so `known_key` (the one saved
    last time) is kept while it still opens the organisation; lost or revoked, a new one is
    minted, so what the caller prints always works."""
    passwords = passwords or Passwords(time_cost=3, memory_kib=65536, parallelism=4)
    async with db.session() as session:
        user = await users.get_user_by_email(session, email)
        created = user is None
        if user is not None:
            memberships = await organisations.list_organisations_for_user(session, user.id)
            organisation = memberships[0][0]
            live = await site_repository.list_sites(session, organisation.id)
            site = live[0] if live else None
        else:
            check_password(password, min_length=8, email=email)
            password_hash = await passwords.hash(password)
            user, organisation = await accounts.sign_up(
                session, email=email, password_hash=password_hash, name="Demo"
            )
            site = None
        key = await _working_key(session, organisation.id, user.id, known_key)
        if site is None:
            # The demo runs on the developer's machine: its pages are on localhost.
            site = await site_repository.create_site(
                session, organisation.id, domain=domain, allow_localhost=True
            )
    if kv is not None:
        await put_site(kv, site_record(site))
    return DemoAccount(
        email=user.email,
        password=password,
        organisation_id=organisation.id,
        site_id=site.id,
        api_key=key,
        created=created,
    )


async def _working_key(
    session: AsyncSession, organisation_id: uuid.UUID, user_id: uuid.UUID, known_key: str | None
) -> str:
    if known_key:
        known = await api_keys.verify_api_key(session, known_key)
        if known is not None and known.organisation_id == organisation_id:
            return known_key
    _, key = await api_keys.create_api_key(
        session, organisation_id, name="dev", created_by_id=user_id
    )
    return key


async def create_site(
    db: Database,
    organisation_id: uuid.UUID,
    domain: str,
    *,
    name: str | None = None,
    kv: KeyValue | None = None,
    allowed_hostnames: Sequence[str] = (),
    allow_localhost: bool = False,
    filter_datacenter: bool = True,
) -> Site:
    async with db.session() as session:
        site = await site_repository.create_site(
            session,
            organisation_id,
            domain=domain,
            name=name,
            allowed_hostnames=list(allowed_hostnames),
            allow_localhost=allow_localhost,
            filter_datacenter=filter_datacenter,
        )
    if kv is not None:
        await put_site(kv, site_record(site))
    return site


async def create_api_key(db: Database, organisation_id: uuid.UUID, name: str) -> tuple[str, str]:
    """`(prefix, key)`: print the key once; only its hash is kept."""
    async with db.session() as session:
        row, key = await api_keys.create_api_key(session, organisation_id, name=name)
    return row.prefix, key
