"""`POST /api/v2/query`: Plausible's Stats API v2 on our data, so scripts and dashboards written
for it work by changing the host and the key (`traytic.warehouse.stats.v2` answers).

`site_id` is a site's id (`st_...`) or its domain within the caller's organisations. Access and
read limits are the stats API's: an API key or member of the site's organisation (anyone for a
public site); another organisation's site is a 404. Every query reads the raw events, so each
costs what a filtered stats request costs. Errors answer as Plausible's do,
`{"error": "<message>"}` with a 400, plus the `field` at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput, PayloadTooLarge, ServiceUnavailable, TrayticError
from traytic.db.access import Caller
from traytic.db.access import resolve_caller as resolve
from traytic.db.errors import NotFound
from traytic.db.models import Site
from traytic.db.repositories import organisations, segments, sites
from traytic.http.errors import render_traytic_error
from traytic.query.auth import credentials
from traytic.query.context import QueryContext
from traytic.query.endpoints.stats import authorize_reader
from traytic.query.segment_filters import require_segment_reader
from traytic.warehouse import Warehouse
from traytic.warehouse.imports import ImportStore
from traytic.warehouse.stats.v2 import V2Stats, first_day, parse_query, segment_ids
from traytic.warehouse.stats.v2.imported import imported_rows

MAX_BODY = 65_536
_ENCODER = msgspec.json.Encoder()


def plausible_error(request: Request[Any, Any, Any], exc: TrayticError) -> Response[bytes]:
    """A 4xx as Plausible's API gives it; a 5xx as every other route does."""
    if exc.status >= 500:
        return render_traytic_error(request, exc)
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return Response(
        _ENCODER.encode(body),
        status_code=exc.status,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def warehouse_of(state: State) -> Warehouse:
    warehouse: Warehouse | None = getattr(state, "warehouse", None)
    if warehouse is None:
        raise ServiceUnavailable("no warehouse is configured for the stats API")
    return warehouse


async def _site_id(session: AsyncSession, caller: Caller | None, wanted: str) -> str:
    """The id of the site `wanted` names: an id, or a domain of the caller's organisations."""
    if wanted.startswith("st_") or caller is None:
        return wanted
    if caller.api_key is not None:
        orgs = [caller.api_key.organisation_id]
    else:
        assert caller.user is not None
        listed = await organisations.list_organisations_for_user(session, caller.user.id)
        orgs = [organisation.id for organisation, _ in listed]
    found = await sites.find_site_by_domain(session, orgs, wanted)
    return found.id if found is not None else wanted


async def load_segments(
    session: AsyncSession, site: Site, caller: Caller | None, ids: list[str]
) -> Mapping[str, list[Any]]:
    """The stored filters of the segments a query names, each one the caller may use."""
    if not ids:
        return {}
    if caller is None:
        raise NotFound("no such segment", field="segmentId")
    user_id = caller.user.id if caller.user is not None else None
    return {
        wanted: (await segments.find_segment(session, site.id, wanted, user_id)).filters
        for wanted in ids
    }


def decode_body(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(f"a query is at most {MAX_BODY} bytes")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidInput("the body must be a JSON object", field="query") from exc
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="query")
    site_id = body.get("site_id")
    if not isinstance(site_id, str) or not 0 < len(site_id) <= 253:
        raise InvalidInput("site_id is required: a site id or domain", field="site_id")
    return body


async def answer_v2(
    body: dict[str, Any],
    *,
    site: Site,
    caller: Caller | None,
    db_session: AsyncSession,
    warehouse: Warehouse,
) -> dict[str, Any]:
    """A validated body's answer for a site the caller may read (also what MCP tools call)."""
    stored = await load_segments(db_session, site, caller, segment_ids(body.get("filters")))

    def segment(segment_id: str) -> list[Any]:
        return stored[segment_id]

    begins = None
    if body.get("date_range") == "all":
        begins = await first_day(warehouse, site.id, site.time_zone)
        include = body.get("include")
        if isinstance(include, dict) and include.get("imports") is True:
            # "all" then starts with the imported history, as Plausible's does.
            imported = await ImportStore(warehouse).first_day(site.id)
            if imported is not None:
                begins = min(begins, imported) if begins is not None else imported
    query = parse_query(
        body,
        site_id=site.id,
        tz=site.time_zone,
        now=datetime.now(UTC),
        segments=segment,
        first_day=begins,
    )
    return await V2Stats(warehouse).run(query, lambda wanted: imported_rows(warehouse, wanted))


@post(
    "/api/v2/query",
    status_code=200,
    tags=["stats"],
    exception_handlers={TrayticError: plausible_error},
    summary="Query stats (Plausible Stats API v2)",
)
async def v2_query(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
    state: State,
) -> Response[bytes]:
    """Metrics over a date range, grouped by dimensions and narrowed by filters, in the shape
    of Plausible's Stats API v2 (`results`, `meta`, `query`)."""
    body = decode_body(await request.body())
    presented = credentials(request, ctx.settings)
    caller = None if presented.anonymous else await resolve(db_session, presented)
    site_id = await _site_id(db_session, caller, body["site_id"])
    reader = await authorize_reader(
        site_id, request, db_session, ctx, cost=ctx.settings.raw_scan_cost
    )
    if reader.caller is not None and segment_ids(body.get("filters")):
        await require_segment_reader(db_session, reader.caller, reader.site)
    answer = await answer_v2(
        body,
        site=reader.site,
        caller=reader.caller,
        db_session=db_session,
        warehouse=warehouse_of(state),
    )
    return Response(_ENCODER.encode(answer), media_type=MediaType.JSON)


class SiteSummary(msgspec.Struct, rename="camel"):
    id: str
    domain: str
    name: str
    time_zone: str
    public: bool


@get("/api/v2/sites", tags=["stats"], summary="The sites the caller may read")
async def readable_sites(
    caller: NamedDependency[Caller], db_session: NamedDependency[AsyncSession]
) -> list[SiteSummary]:
    """Every live site of the API key's organisation, or of the signed-in person's ones (what
    `site_id` in a query may name)."""
    if caller.api_key is not None:
        orgs = [caller.api_key.organisation_id]
    else:
        assert caller.user is not None
        listed = await organisations.list_organisations_for_user(db_session, caller.user.id)
        orgs = [organisation.id for organisation, _ in listed]
    found = [site for org in orgs for site in await sites.list_sites(db_session, org)]
    return [
        SiteSummary(id=s.id, domain=s.domain, name=s.name, time_zone=s.time_zone, public=s.public)
        for s in found
    ]
