"""The MCP tools: read-only views of the stats API and the v2 query, each one call to Traytic's
HTTP API with the caller's key. A refused call is a tool error carrying the API's message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from traytic.query.mcp.backends import ApiError, Backend

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
INSTRUCTIONS = (
    "Traytic web analytics, read-only. Start with list_sites to learn site ids and time zones."
    " Reports take a period (24h, 7d, 30d, 90d) or from/to dates (YYYY-MM-DD, the site's zone)"
    ' and equality filters such as {"country": "DE", "path": "/pricing"}.'
    " query_stats answers Plausible Stats API v2 queries (metrics, dimensions, filters)."
)
REPORTS: dict[str, tuple[str, str]] = {
    "overview": (
        "overview",
        "Visitors, visits, pageviews, views per visit, bounce rate, visit duration, custom"
        " events and engaged time per visit, with the previous period's values.",
    ),
    "timeseries": ("timeseries", "The overview's metrics per hour or day."),
    "top_pages": ("pages", "Top pages, entry pages and exit pages."),
    "sources": ("sources", "Referrer sources, referrers, channels and UTM tags."),
    "locations": ("countries", "Countries, regions and cities."),
    "devices": ("devices", "Device classes, browsers, operating systems and screen sizes."),
    "custom_events": ("events", "Custom events by name, with their props' values."),
    "web_vitals": (
        "vitals",
        "Core Web Vitals (LCP, INP, CLS, FCP, TTFB): P75, P95 and ratings, site-wide and per"
        " route.",
    ),
    "engagement": (
        "engagement",
        "Time on page and scroll depth per page; outbound links, file downloads and not-found"
        " pages by URL.",
    ),
    "errors": (
        "errors",
        "JavaScript errors by message and page: count, visitors, first and last seen.",
    ),
    "languages": ("languages", "Visitors' primary languages (from Accept-Language)."),
    "goal_conversions": (
        "goals",
        "Every goal with its unique and total conversions, conversion rate and revenue, with the"
        " previous period's values.",
    ),
}  # fmt: skip
"""Tool name → (stats API report, what it answers)."""
FILTER_NAMES = {
    "utm_source": "utmSource", "utm_medium": "utmMedium", "utm_campaign": "utmCampaign",
    "utm_term": "utmTerm", "utm_content": "utmContent",
}  # fmt: skip

METRICS_HELP = (
    "visitors, visits, pageviews, views_per_visit, bounce_rate, visit_duration, events, percentage."
)
RANGE_HELP = "day, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, or [first, last] dates."
DIMENSIONS_HELP = (
    "event:page, event:hostname, event:name, event:props:<key>, visit:source,"
    " visit:country_name, visit:device..., time:day and the other time buckets."
)
FILTERS_HELP = 'Plausible v2 filters, e.g. [["contains", "event:page", ["/blog"]]].'
Imported = Annotated[
    bool,
    Field(description="Add the history imported from Plausible, Umami or GA4 (whole days)."),
]
Authorization = Callable[[Context[Any, Any]], str | None]
SiteId = Annotated[str, Field(description="The site's id (st_...) from list_sites.")]
Period = Annotated[
    str | None,
    Field(description="24h, 7d, 30d or 90d (default 30d); or give date_from and date_to."),
]
Day = Annotated[str | None, Field(description="A local date, YYYY-MM-DD (with the other one).")]
Filters = Annotated[
    dict[str, str] | None,
    Field(
        description="Equality filters: path, hostname, source, referrer, channel, utm_source,"
        " utm_medium, utm_campaign, utm_term, utm_content, country, region, city, device, browser,"
        " os, screen, event, prop (key:value), error (an error message), segment (a saved"
        " segment's id)."
    ),
]  # fmt: skip


def header_authorization(ctx: Context[Any, Any]) -> str | None:
    """The MCP request's own `Authorization` header (streamable HTTP)."""
    headers = ctx.headers or {}
    return headers.get("authorization") or headers.get("Authorization")


def build_server(
    backend: Backend, authorization: Authorization = header_authorization
) -> MCPServer:
    server: MCPServer = MCPServer(name="traytic", instructions=INSTRUCTIONS, version="0.1.0")

    async def call(ctx: Context[Any, Any], method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await backend.call(method, path, authorization=authorization(ctx), **kwargs)
        except ApiError as exc:
            raise ToolError(f"Traytic answered {exc.status}: {exc.message}") from exc

    @server.tool(annotations=READ_ONLY)
    async def list_sites(ctx: Context[Any, Any]) -> list[dict[str, Any]]:
        """The sites this API key may read: id, domain, name and time zone."""
        found: list[dict[str, Any]] = await call(ctx, "GET", "/api/v2/sites")
        return found

    @server.tool(annotations=READ_ONLY)
    async def query_stats(  # noqa: PLR0917 - tools take their arguments by name
        ctx: Context[Any, Any],
        site_id: SiteId,
        metrics: Annotated[list[str], Field(description=METRICS_HELP)],
        date_range: Annotated[str | list[str], Field(description=RANGE_HELP)] = "30d",
        dimensions: Annotated[list[str] | None, Field(description=DIMENSIONS_HELP)] = None,
        filters: Annotated[list[Any] | None, Field(description=FILTERS_HELP)] = None,
        order_by: Annotated[
            list[list[str]] | None, Field(description="[[metric or dimension, asc|desc], ...].")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Any metrics over a date range, grouped and filtered: Plausible's Stats API v2."""
        body: dict[str, Any] = {
            "site_id": site_id, "metrics": metrics, "date_range": date_range,
            "dimensions": dimensions or [], "filters": filters or [],
            "pagination": {"limit": limit, "offset": offset}, "include": {"total_rows": True},
        }  # fmt: skip
        if order_by:
            body["order_by"] = order_by
        answer: dict[str, Any] = await call(ctx, "POST", "/api/v2/query", json=body)
        return answer

    def report_tool(name: str, report: str, description: str) -> None:
        async def read_report(  # noqa: PLR0917 - tools take their arguments by name
            ctx: Context[Any, Any],
            site_id: SiteId,
            period: Period = None,
            date_from: Day = None,
            date_to: Day = None,
            filters: Filters = None,
            limit: Annotated[int, Field(ge=1, le=100, description="Rows per list.")] = 10,
            imported: Imported = False,
        ) -> dict[str, Any]:
            params: dict[str, Any] = {
                "period": period,
                "from": date_from,
                "to": date_to,
                "limit": limit,
                "imported": "true" if imported else None,
            }
            for key, value in (filters or {}).items():
                params[FILTER_NAMES.get(key, key)] = value
            answer: dict[str, Any] = await call(
                ctx, "GET", f"/api/events/{quote(site_id, safe='')}/{report}", params=params
            )
            return answer

        server.tool(name=name, description=description, annotations=READ_ONLY)(read_report)

    for name, (report, description) in REPORTS.items():
        report_tool(name, report, description)

    @server.tool(annotations=READ_ONLY)
    async def goals_and_funnels(ctx: Context[Any, Any], site_id: SiteId) -> dict[str, Any]:
        """The site's goals and funnels as defined (their ids are what funnel takes)."""
        me = await call(ctx, "GET", "/api/auth/me")
        organisation = me["organisations"][0]["id"]
        base = f"/api/orgs/{organisation}/sites/{quote(site_id, safe='')}"
        return {
            "goals": await call(ctx, "GET", f"{base}/goals"),
            "funnels": await call(ctx, "GET", f"{base}/funnels"),
        }

    @server.tool(annotations=READ_ONLY)
    async def funnel(  # noqa: PLR0917 - tools take their arguments by name
        ctx: Context[Any, Any],
        site_id: SiteId,
        funnel_id: Annotated[str, Field(description="A funnel's id from goals_and_funnels.")],
        period: Period = None,
        date_from: Day = None,
        date_to: Day = None,
    ) -> dict[str, Any]:
        """Visitors reaching each step of a funnel, conversion and drop-off, against the
        previous period."""
        answer: dict[str, Any] = await call(
            ctx,
            "GET",
            f"/api/events/{quote(site_id, safe='')}/funnels/{quote(funnel_id, safe='')}",
            params={"period": period, "from": date_from, "to": date_to},
        )
        return answer

    @server.tool(annotations=READ_ONLY)
    async def live_visitors(ctx: Context[Any, Any], site_id: SiteId) -> dict[str, Any]:
        """Visitors on the site in the last five minutes and the latest events."""
        answer: dict[str, Any] = await call(
            ctx, "GET", f"/api/events/{quote(site_id, safe='')}/live", params={"limit": 20}
        )
        return answer

    return server
