"""What a stats request asks of goals: the `conversions` to add to a report (one goal, or
`all`), how to `sort` its breakdowns, and the site's goals as the warehouse reads them. An
unknown goal id is a 400 naming the parameter, not a 404: the site exists, the value is bad."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import Parameter
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Goal, Site
from traytic.db.repositories import goals as goal_repository
from traytic.query.context import QueryContext
from traytic.warehouse.stats import Stats, matching
from traytic.warehouse.stats.conversions import GoalStats, Sort, Target, check_sort
from traytic.warehouse.stats.revenue import Conversion


def stats_goal(goal: Goal) -> matching.Goal:
    return matching.Goal.of(goal)


async def goal_of(session: AsyncSession, site: Site, goal_id: str, field: str) -> matching.Goal:
    try:
        return stats_goal(await goal_repository.get_goal(session, site.id, uuid.UUID(goal_id)))
    except (ValueError, NotFound) as exc:
        raise InvalidInput(f"{field} is not a goal of this site", field=field) from exc


@dataclass(frozen=True, slots=True)
class ConversionsRequest:
    target: Target
    sort: str
    conversion: Conversion

    def stats(self, stats: Stats) -> GoalStats:
        return GoalStats(stats, self.conversion)


async def provide_conversions(
    *,
    site: NamedDependency[Site],
    db_session: NamedDependency[AsyncSession],
    ctx: NamedDependency[QueryContext],
    conversions: Annotated[
        str | None,
        Parameter(
            description="Add a goal's conversions to every row: its id, or `all` for any goal."
        ),
    ] = None,
    sort: Annotated[
        Sort,
        Parameter(description="Order of breakdown rows (conversion sorts need `conversions`)."),
    ] = "visitors",
) -> ConversionsRequest | None:
    target: Target | None = None
    if conversions == "all":
        found = await goal_repository.list_goals(db_session, site.id)
        target = Target(tuple(stats_goal(goal) for goal in found), all=True)
    elif conversions is not None:
        target = Target((await goal_of(db_session, site, conversions, "conversions"),))
    check_sort(sort, target)
    if target is None:
        return None
    return ConversionsRequest(target, sort, ctx.rates.conversion(site.currency))
