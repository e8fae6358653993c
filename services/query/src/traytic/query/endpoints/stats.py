"""`/api/events/{siteId}/...`: a site's stats (overview, timeseries, pages, sources, countries,
devices, vitals, live, events, engagement, errors, languages), answered by
`traytic.warehouse.stats` on the app's warehouse.

Access: an API key of the site's organisation or a session of one of its members; a site marked
public is readable without credentials (a shared dashboard). A site of another organisation gets
the same 404 as one that does not exist. Without credentials a private or unknown site is 401.
Every request is charged against its reader's read limit (`traytic.query.read_limits`): the API
key's, the signed-in person's, or the anonymous client address's; filtered queries cost more.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import ServiceUnavailable
from traytic.db.access import Caller, Permission, org_access
from traytic.db.access import resolve_caller as resolve
from traytic.db.errors import NotFound
from traytic.db.models import Site
from traytic.query.auth import client_address, credentials
from traytic.query.context import QueryContext
from traytic.query.conversions import (
    ConversionsRequest,
    goal_of,
    provide_conversions,
)
from traytic.query.read_limits import charge_read, read_cost
from traytic.query.segment_filters import segment_filter
from traytic.warehouse import Warehouse
from traytic.warehouse.stats import Filters, Stats, StatsQuery
from traytic.warehouse.stats.results import (
    Countries,
    Devices,
    Engagement,
    Errors,
    Events,
    GoalOverview,
    Languages,
    Live,
    Overview,
    Pages,
    Sources,
    Timeseries,
    Vitals,
)


def _no_such_site() -> NotFound:
    return NotFound("no such site", field="siteId")


@dataclass(frozen=True, slots=True)
class SiteReader:
    """A site and who may read it: `caller` is None for an anonymous reader of a public site."""

    site: Site
    caller: Caller | None


def _charge(
    ctx: QueryContext, request: Request[Any, Any, Any], caller: Caller | None, cost: int
) -> None:
    charge_read(
        key_limiter=ctx.key_limiter,
        read_limiter=ctx.read_limiter,
        caller=caller,
        address=client_address(request, ctx),
        cost=cost,
    )


async def authorize_reader(
    site_id: str,
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    ctx: QueryContext,
    *,
    cost: int | None = None,
) -> SiteReader:
    """The site if the caller may read its stats (see the module docstring); the read is
    charged to the reader first (`cost`, or what the query parameters make it)."""
    site = await db_session.get(Site, site_id)
    if site is not None and site.deleted_at is not None:
        site = None
    presented = credentials(request, ctx.settings)
    if cost is None:
        cost = read_cost(request.query_params, ctx.settings.raw_scan_cost)
    if presented.anonymous:  # charged before anything else: guessing site ids costs too
        _charge(ctx, request, None, cost)
        if site is not None and site.public:
            return SiteReader(site, None)
    caller = await resolve(db_session, presented)  # 401 without valid credentials
    _charge(ctx, request, caller, cost)
    if site is None:
        raise _no_such_site()
    if not site.public:
        try:
            access = await org_access(db_session, caller, site.organisation_id)
        except NotFound:
            raise _no_such_site() from None
        access.require(Permission.READ_STATS)
    return SiteReader(site, caller)


async def provide_stats_site(
    site_id: FromPath[str],
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
) -> Site:
    return (await authorize_reader(site_id, request, db_session, ctx)).site


def provide_stats(state: State) -> Stats:
    """Stats over the warehouse the host put on `app.state.warehouse` (opened by its lifespan)."""
    warehouse: Warehouse | None = getattr(state, "warehouse", None)
    if warehouse is None:
        raise ServiceUnavailable("no warehouse is configured for the stats API")
    return Stats(warehouse)


async def provide_stats_query(
    *,
    site: NamedDependency[Site],
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
    period: Annotated[
        Literal["24h", "7d", "30d", "90d"] | None,
        Parameter(description="The last 24 hours, or N local days ending today (default 30d)."),
    ] = None,
    date_from: Annotated[
        str | None,
        QueryParameter(
            name="from",
            format="date",
            description="First local day (with `to`, instead of period).",
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        QueryParameter(name="to", format="date", description="Last local day, included."),
    ] = None,
    tz: Annotated[
        str | None, Parameter(description="IANA time zone; the site's by default.")
    ] = None,
    interval: Annotated[
        Literal["hour", "day"] | None,
        Parameter(description="Timeseries bucket: hour for 24h, day otherwise by default."),
    ] = None,
    limit: Annotated[int, Parameter(description="Rows per list (1..1000).")] = 10,
    page: Annotated[int, Parameter(description="Page of each list, from 1.")] = 1,
    path: Annotated[str | None, Parameter(description="Filter: pathname.")] = None,
    hostname: Annotated[str | None, Parameter(description="Filter: hostname.")] = None,
    source: Annotated[
        str | None, Parameter(description="Filter: referrer source (empty: direct).")
    ] = None,
    referrer: Annotated[str | None, Parameter(description="Filter: referrer URL.")] = None,
    channel: Annotated[str | None, Parameter(description="Filter: channel.")] = None,
    utm_source: Annotated[str | None, QueryParameter(name="utmSource")] = None,
    utm_medium: Annotated[str | None, QueryParameter(name="utmMedium")] = None,
    utm_campaign: Annotated[str | None, QueryParameter(name="utmCampaign")] = None,
    utm_term: Annotated[str | None, QueryParameter(name="utmTerm")] = None,
    utm_content: Annotated[str | None, QueryParameter(name="utmContent")] = None,
    country: Annotated[str | None, Parameter(description="Filter: ISO country code.")] = None,
    region: Annotated[str | None, Parameter(description="Filter: region code.")] = None,
    city: Annotated[str | None, Parameter(description="Filter: city.")] = None,
    device: Annotated[str | None, Parameter(description="Filter: device class.")] = None,
    browser: Annotated[str | None, Parameter(description="Filter: browser.")] = None,
    os: Annotated[str | None, Parameter(description="Filter: operating system.")] = None,
    screen: Annotated[str | None, Parameter(description="Filter: screen class.")] = None,
    event: Annotated[str | None, Parameter(description="Filter: custom event name.")] = None,
    prop: Annotated[
        str | None, Parameter(description="Filter: custom event prop as `key:value`.")
    ] = None,
    segment: Annotated[
        str | None, Parameter(description="A saved segment's id: its filters apply too.")
    ] = None,
    goal: Annotated[
        str | None,
        Parameter(description="Filter: the visits that converted this goal (its id)."),
    ] = None,
    error: Annotated[
        str | None,
        Parameter(description="Filter: the visits that met this JavaScript error (its message)."),
    ] = None,
    imported: Annotated[
        bool,
        Parameter(description="Add data imported from other tools (whole days, without filters)."),
    ] = False,
    sampling: Annotated[
        Literal["auto", "exact"],
        Parameter(
            description="`exact` reads every event; `auto` (default) lets a report over more"
            " events than the server's sampling limit read a sample of the visitors and scale"
            " its counts (a filtered report's every figure, an unfiltered one's visit figures;"
            " the answer then says `sampled`: the share read)."
        ),
    ] = "auto",
) -> StatsQuery:
    """The request's parameters, validated: a bad one is a 400 that names it."""
    filters = Filters.of(
        event=event,
        prop=prop,
        error=error,
        goal=await goal_of(db_session, site, goal, "goal") if goal is not None else None,
        path=path,
        hostname=hostname,
        source=source,
        referrer=referrer,
        channel=channel,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
        utm_term=utm_term,
        utm_content=utm_content,
        country=country,
        region=region,
        city=city,
        device=device,
        browser=browser,
        os=os,
        screen=screen,
    )
    if segment is not None:
        condition = await segment_filter(segment, site, request, db_session, ctx)
        filters = dataclasses.replace(filters, segment=condition)
    return StatsQuery.build(
        site.id,
        period=period,
        date_from=date_from,
        date_to=date_to,
        tz=tz or site.time_zone,
        interval=interval,
        filters=filters,
        limit=limit,
        page=page,
        sample_above=(ctx.settings.sample_above or None) if sampling == "auto" else None,
        imported=imported,
    )


class StatsController(Controller):
    path = "/api/events/{site_id:str}"
    tags = ["stats"]
    dependencies = {
        "site": Provide(provide_stats_site),
        "stats": Provide(provide_stats, sync_to_thread=False),
        "stats_query": Provide(provide_stats_query),
        "wanted": Provide(provide_conversions),
    }

    @get("/overview")
    async def overview(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Overview | GoalOverview:
        """Visitors, visits, pageviews, views per visit, bounce rate, visit duration and custom
        events, each with the previous period's value; with `conversions`, that goal's."""
        if wanted is not None:
            return await wanted.stats(stats).overview(stats_query, wanted.target)
        return await stats.overview(stats_query)

    @get("/timeseries")
    async def timeseries(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Timeseries:
        """The same metrics per hour or day in the time zone, every bucket present."""
        if wanted is not None:
            return await wanted.stats(stats).timeseries(stats_query, wanted.target)
        return await stats.timeseries(stats_query)

    @get("/pages")
    async def pages(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Pages:
        """Top pages, entry pages and exit pages."""
        if wanted is not None:
            return await wanted.stats(stats).pages(stats_query, wanted.target, wanted.sort)
        return await stats.pages(stats_query)

    @get("/sources")
    async def sources(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Sources:
        """Referrer sources, referrers, channels and UTM dimensions."""
        if wanted is not None:
            return await wanted.stats(stats).sources(stats_query, wanted.target, wanted.sort)
        return await stats.sources(stats_query)

    @get("/countries")
    async def countries(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Countries:
        """Countries, regions and cities."""
        if wanted is not None:
            return await wanted.stats(stats).countries(stats_query, wanted.target, wanted.sort)
        return await stats.countries(stats_query)

    @get("/devices")
    async def devices(
        self,
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        wanted: NamedDependency[ConversionsRequest | None],
    ) -> Devices:
        """Device classes, browsers and versions, operating systems and versions, screens."""
        if wanted is not None:
            return await wanted.stats(stats).devices(stats_query, wanted.target, wanted.sort)
        return await stats.devices(stats_query)

    @get("/vitals")
    async def vitals(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Vitals:
        """LCP, INP, CLS, FCP and TTFB, site-wide and per route: P75, P95, samples and the
        shares rated good, needs improvement and poor by the web.dev thresholds."""
        return await stats.vitals(stats_query)

    @get("/live")
    async def live(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Live:
        """Visitors in the last five minutes and the latest `limit` events."""
        return await stats.live(stats_query)

    @get("/events")
    async def events(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Events:
        """Custom events by name with their props' values."""
        return await stats.events(stats_query)

    @get("/engagement")
    async def engagement(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Engagement:
        """Time on page and scroll depth per page (mean per view), and the outbound links,
        file downloads and not-found pages by URL, with events and visitors."""
        return await stats.engagement(stats_query)

    @get("/errors")
    async def errors(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Errors:
        """JavaScript errors grouped by message and page: count, visitors, first and last
        seen, and where one was thrown."""
        return await stats.errors(stats_query)

    @get("/languages")
    async def languages(
        self, stats: NamedDependency[Stats], stats_query: NamedDependency[StatsQuery]
    ) -> Languages:
        """Visitors' primary languages (from Accept-Language) by visitors."""
        return await stats.languages(stats_query)
