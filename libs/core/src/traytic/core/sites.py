"""The site registry on JetStream KV: which site ids the gateway accepts, and from where.

The query service owns sites (PostgreSQL) and mirrors each into the `sites` bucket; before it
exists, `traytic site create` writes here directly. The gateway only reads (a watch), so a new
site (or a changed hostname rule) is applied within milliseconds, with no database on the
ingest path. Fields are only ever added, with defaults: a record written by an older version
still decodes, and an older gateway ignores what it does not know.
"""

from __future__ import annotations

import time

import msgspec
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from traytic.core.ids import new_site_id


class SiteRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What ingest needs to know about a site."""

    site_id: str
    domain: str
    created_at: float
    allowed_hostnames: list[str] = msgspec.field(default_factory=list)
    """Page hostnames accepted besides `domain` and its subdomains; `*.x.com` is every
    subdomain of x.com."""
    allow_localhost: bool = False
    """Accept pages on `localhost`, `*.localhost` and loopback addresses (development)."""
    filter_datacenter: bool = True
    """Drop beacons sent from hosting and cloud networks (servers, not visitors)."""


SITE_ENCODER = msgspec.json.Encoder()
SITE_DECODER = msgspec.json.Decoder(SiteRecord)


async def put_site(kv: KeyValue, record: SiteRecord) -> None:
    await kv.put(record.site_id, SITE_ENCODER.encode(record))


async def create_site(
    kv: KeyValue,
    domain: str,
    *,
    site_id: str | None = None,
    allowed_hostnames: list[str] | None = None,
    allow_localhost: bool = False,
    filter_datacenter: bool = True,
) -> SiteRecord:
    record = SiteRecord(
        site_id=site_id or new_site_id(),
        domain=domain,
        created_at=time.time(),
        allowed_hostnames=allowed_hostnames or [],
        allow_localhost=allow_localhost,
        filter_datacenter=filter_datacenter,
    )
    await put_site(kv, record)
    return record


async def get_site(kv: KeyValue, site_id: str) -> SiteRecord | None:
    try:
        entry = await kv.get(site_id)
    except KeyNotFoundError:
        return None
    return SITE_DECODER.decode(entry.value) if entry.value else None


async def delete_site(kv: KeyValue, site_id: str) -> None:
    await kv.delete(site_id)
