"""`/api/events/{siteId}/goals` and `/api/events/{siteId}/funnels/{funnelId}`: conversions of
every goal, and a funnel's steps, with the stats API's parameters, filters and access rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Site
from traytic.db.repositories import goals as goal_repository
from traytic.query.context import QueryContext
from traytic.query.conversions import stats_goal
from traytic.query.endpoints.stats import StatsController
from traytic.warehouse.stats import Stats, StatsQuery
from traytic.warehouse.stats.conversions import FunnelStats, GoalStats
from traytic.warehouse.stats.results import FunnelReport, Goals


class GoalStatsController(Controller):
    path = "/api/events/{site_id:str}"
    tags = ["stats"]
    # The stats API's site, access and parameters; conversions are these routes' own answer.
    dependencies = {k: v for k, v in StatsController.dependencies.items() if k != "wanted"}

    @get("/goals")
    async def goals(
        self,
        *,
        site: NamedDependency[Site],
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        db_session: NamedDependency[AsyncSession],
        ctx: NamedDependency[QueryContext],
    ) -> Goals:
        """Every goal with its unique and total conversions, conversion rate and (revenue
        goals) revenue in the site's currency, each with the previous period's value."""
        found = [stats_goal(goal) for goal in await goal_repository.list_goals(db_session, site.id)]
        return await GoalStats(stats, ctx.rates.conversion(site.currency)).goals(stats_query, found)

    @get("/funnels/{funnel_id:uuid}")
    async def funnel(
        self,
        *,
        site: NamedDependency[Site],
        funnel_id: FromPath[uuid.UUID],
        stats: NamedDependency[Stats],
        stats_query: NamedDependency[StatsQuery],
        db_session: NamedDependency[AsyncSession],
        breakdown: Annotated[
            Literal["source", "channel", "country", "device"] | None,
            Parameter(description="Split the funnel by the entry visit's source, channel..."),
        ] = None,
    ) -> FunnelReport:
        """Visitors reaching each step, conversion from the first and the previous step,
        drop-off, against the previous period; `breakdown` adds the top `limit` values."""
        funnel, steps = await goal_repository.get_funnel(db_session, site.id, funnel_id)
        return await FunnelStats(stats).funnel(
            stats_query,
            [stats_goal(goal) for goal in steps],
            funnel.window_minutes,
            breakdown=breakdown,
        )
