"""A site's goals and funnels. Callers pass a site they already checked belongs to the caller's
organisation; a goal or funnel id of another site is `NotFound`, the same as one that does not
exist. Every value is validated here, once, for the API and the CLI alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.core.goals import (
    MAX_PROP_KEY_LENGTH,
    MAX_PROP_VALUE_LENGTH,
    check_event_name,
    check_pattern,
)
from traytic.db.errors import DuplicateError, InUse, NotFound, is_unique_violation
from traytic.db.models import Alert, Funnel, FunnelStep, Goal, GoalKind
from traytic.db.validation import check_choice, check_text

MIN_STEPS = 2
MAX_STEPS = 8
MIN_WINDOW_MINUTES = 1
MAX_WINDOW_MINUTES = 1440
"""A day at most: visitor ids change with the daily salt, so a longer window finds nobody."""
MAX_GOALS_PER_SITE = 100


def _check_prop(prop_key: object, prop_value: object, kind: str) -> tuple[str | None, str | None]:
    if prop_key is None and prop_value is None:
        return None, None
    if kind == GoalKind.PAGEVIEW:
        raise InvalidInput("page goals match a path, not a prop", field="propKey")
    key = check_text("propKey", prop_key, max_length=MAX_PROP_KEY_LENGTH, strip=False)
    if prop_value is None:
        raise InvalidInput("propValue is needed with propKey", field="propValue")
    value = check_text(
        "propValue", prop_value, max_length=MAX_PROP_VALUE_LENGTH, min_length=0, strip=False
    )
    return key, value


def _check_match(kind: str, match: object) -> str:
    if kind == GoalKind.PAGEVIEW:
        return check_pattern(match, field="match")
    return check_event_name(match, field="match")


async def _flush(session: AsyncSession, field: str, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise DuplicateError(field, f"this site already has a {what} of that name") from exc
        raise


async def create_goal(
    session: AsyncSession,
    site_id: str,
    *,
    name: str,
    kind: str,
    match: str,
    prop_key: str | None = None,
    prop_value: str | None = None,
) -> Goal:
    kind = check_choice("kind", kind, tuple(k.value for k in GoalKind))
    key, value = _check_prop(prop_key, prop_value, kind)
    count = len(await list_goals(session, site_id))
    if count >= MAX_GOALS_PER_SITE:
        raise InvalidInput(f"a site has at most {MAX_GOALS_PER_SITE} goals", field="name")
    goal = Goal(
        site_id=site_id,
        name=check_text("name", name, max_length=100),
        kind=kind,
        match=_check_match(kind, match),
        prop_key=key,
        prop_value=value,
    )
    session.add(goal)
    await _flush(session, "name", "goal")
    return goal


async def list_goals(session: AsyncSession, site_id: str) -> list[Goal]:
    result = await session.exec(
        select(Goal).where(col(Goal.site_id) == site_id).order_by(col(Goal.name), col(Goal.id))
    )
    return list(result.all())


def _goal_id(value: object, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("no such goal", field=field) from exc


async def get_goal(session: AsyncSession, site_id: str, goal_id: object) -> Goal:
    goal = await session.get(Goal, _goal_id(goal_id, "goalId"))
    if goal is None or goal.site_id != site_id:
        raise NotFound("no such goal", field="goalId")
    return goal


_UNSET: Any = object()


async def update_goal(
    session: AsyncSession,
    site_id: str,
    goal_id: object,
    *,
    name: str = _UNSET,
    kind: str = _UNSET,
    match: str = _UNSET,
    prop_key: str | None = _UNSET,
    prop_value: str | None = _UNSET,
) -> Goal:
    goal = await get_goal(session, site_id, goal_id)
    if name is not _UNSET:
        goal.name = check_text("name", name, max_length=100)
    if kind is not _UNSET:
        goal.kind = check_choice("kind", kind, tuple(k.value for k in GoalKind))
    goal.match = _check_match(goal.kind, match if match is not _UNSET else goal.match)
    key = goal.prop_key if prop_key is _UNSET else prop_key
    value = goal.prop_value if prop_value is _UNSET else prop_value
    goal.prop_key, goal.prop_value = _check_prop(key, value, goal.kind)
    session.add(goal)
    await _flush(session, "name", "goal")
    return goal


async def delete_goal(session: AsyncSession, site_id: str, goal_id: object) -> None:
    """Delete a goal no funnel or alert uses (a funnel's step or an alert's rule would lose
    its meaning; the owner changes or deletes those first, knowingly)."""
    goal = await get_goal(session, site_id, goal_id)
    used = await session.exec(
        select(Funnel.name)
        .join(FunnelStep, col(FunnelStep.funnel_id) == col(Funnel.id))
        .where(col(FunnelStep.goal_id) == goal.id)
    )
    names = sorted(set(used.all()))
    if names:
        raise InUse(
            f"the funnel {names[0]!r} uses this goal: change or delete the funnel first",
            field="goalId",
        )
    alerts = await session.exec(select(Alert.name).where(col(Alert.goal_id) == goal.id))
    if named := sorted(set(alerts.all())):
        raise InUse(
            f"the alert {named[0]!r} counts this goal: change or delete the alert first",
            field="goalId",
        )
    await session.delete(goal)
    await session.flush()


# ---- funnels ---------------------------------------------------------------------------


def check_window(value: object) -> int | None:
    """Minutes from the first step (None: within one visit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "windowMinutes must be a whole number of minutes or null", field="windowMinutes"
        )
    if not MIN_WINDOW_MINUTES <= value <= MAX_WINDOW_MINUTES:
        raise InvalidInput(
            f"windowMinutes must be from {MIN_WINDOW_MINUTES} to {MAX_WINDOW_MINUTES}"
            " (or null: within one visit)",
            field="windowMinutes",
        )
    return value


async def _check_steps(session: AsyncSession, site_id: str, steps: Sequence[object]) -> list[Goal]:
    if not isinstance(steps, list | tuple):
        raise InvalidInput("steps must be a list of goal ids", field="steps")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise InvalidInput(
            f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(steps)}", field="steps"
        )
    goals = {goal.id: goal for goal in await list_goals(session, site_id)}
    found: list[Goal] = []
    for index, step in enumerate(steps):
        try:
            goal_id = uuid.UUID(str(step))
        except ValueError:
            goal_id = None
        if goal_id is None or goal_id not in goals:
            raise InvalidInput(
                f"steps[{index}] is not a goal of this site", field=f"steps[{index}]"
            )
        if found and found[-1].id == goal_id:
            raise InvalidInput(
                f"steps[{index}] repeats the step before it: one event would reach both",
                field=f"steps[{index}]",
            )
        found.append(goals[goal_id])
    return found


async def create_funnel(
    session: AsyncSession,
    site_id: str,
    *,
    name: str,
    steps: Sequence[object],
    window_minutes: int | None = 30,
) -> tuple[Funnel, list[Goal]]:
    goals = await _check_steps(session, site_id, steps)
    funnel = Funnel(
        site_id=site_id,
        name=check_text("name", name, max_length=100),
        window_minutes=check_window(window_minutes),
    )
    session.add(funnel)
    await _flush(session, "name", "funnel")
    for position, goal in enumerate(goals):
        session.add(FunnelStep(funnel_id=funnel.id, position=position, goal_id=goal.id))
    await session.flush()
    return funnel, goals


async def list_funnels(session: AsyncSession, site_id: str) -> list[tuple[Funnel, list[Goal]]]:
    result = await session.exec(
        select(Funnel).where(col(Funnel.site_id) == site_id).order_by(col(Funnel.name))
    )
    return [(funnel, await funnel_goals(session, funnel)) for funnel in result.all()]


async def funnel_goals(session: AsyncSession, funnel: Funnel) -> list[Goal]:
    result = await session.exec(
        select(Goal)
        .join(FunnelStep, col(FunnelStep.goal_id) == col(Goal.id))
        .where(col(FunnelStep.funnel_id) == funnel.id)
        .order_by(col(FunnelStep.position))
    )
    return list(result.all())


async def get_funnel(
    session: AsyncSession, site_id: str, funnel_id: object
) -> tuple[Funnel, list[Goal]]:
    try:
        key = funnel_id if isinstance(funnel_id, uuid.UUID) else uuid.UUID(str(funnel_id))
    except ValueError as exc:
        raise NotFound("no such funnel", field="funnelId") from exc
    funnel = await session.get(Funnel, key)
    if funnel is None or funnel.site_id != site_id:
        raise NotFound("no such funnel", field="funnelId")
    return funnel, await funnel_goals(session, funnel)


async def update_funnel(
    session: AsyncSession,
    site_id: str,
    funnel_id: object,
    *,
    name: str = _UNSET,
    steps: Sequence[object] = _UNSET,
    window_minutes: int | None = _UNSET,
) -> tuple[Funnel, list[Goal]]:
    funnel, goals = await get_funnel(session, site_id, funnel_id)
    if name is not _UNSET:
        funnel.name = check_text("name", name, max_length=100)
    if window_minutes is not _UNSET:
        funnel.window_minutes = check_window(window_minutes)
    if steps is not _UNSET:
        goals = await _check_steps(session, site_id, steps)
        await session.exec(delete(FunnelStep).where(col(FunnelStep.funnel_id) == funnel.id))
        for position, goal in enumerate(goals):
            session.add(FunnelStep(funnel_id=funnel.id, position=position, goal_id=goal.id))
    session.add(funnel)
    await _flush(session, "name", "funnel")
    return funnel, goals


async def delete_funnel(session: AsyncSession, site_id: str, funnel_id: object) -> None:
    funnel, _ = await get_funnel(session, site_id, funnel_id)
    await session.exec(delete(FunnelStep).where(col(FunnelStep.funnel_id) == funnel.id))
    await session.delete(funnel)
    await session.flush()
