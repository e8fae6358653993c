"""A site's alerts: created, changed and listed for the API and the CLI (validated here, one set
of rules for both), and claimed by the scheduler when their next check is due."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Alert, AlertKind, Goal, utcnow
from traytic.db.repositories.leases import claim
from traytic.db.validation import check_choice, check_text

MIN_COOLDOWN_S = 60
MAX_COOLDOWN_S = 30 * 86_400
SUPPORTED_KINDS = (AlertKind.SPIKE.value, AlertKind.DROP.value, AlertKind.GOAL.value)
MIN_GOAL_WINDOW_S = 300
MAX_GOAL_WINDOW_S = 7 * 86_400
"""A goal alert counts conversions over the last 5 minutes to 7 days."""


@dataclass(frozen=True, slots=True)
class AlertSpec:
    name: str
    kind: str
    threshold: float
    cooldown_s: int = 3600
    enabled: bool = True
    goal_id: uuid.UUID | None = None
    below: bool = False
    window_s: int = 3600


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a number", field=field)
    return float(value)


def check_alert(spec: AlertSpec) -> AlertSpec:
    """The spec with its name trimmed, or an `InvalidInput` naming the field at fault."""
    kind = check_choice("kind", spec.kind, list(SUPPORTED_KINDS))
    threshold = _number("threshold", spec.threshold)
    if kind == AlertKind.SPIKE.value and not (threshold >= 1 and threshold.is_integer()):
        raise InvalidInput(
            "a spike threshold is a whole number of visitors, 1 or more", field="threshold"
        )
    if kind == AlertKind.DROP.value and not 0 < threshold < 1:
        raise InvalidInput(
            "a drop threshold is a share of the usual visitors, between 0 and 1 (0.5: half)",
            field="threshold",
        )
    if kind == AlertKind.GOAL.value:
        _check_goal_rule(spec, threshold)
    elif spec.goal_id is not None:
        raise InvalidInput("only goal alerts name a goal", field="goalId")
    cooldown = spec.cooldown_s
    if isinstance(cooldown, bool) or not isinstance(cooldown, int):
        raise InvalidInput("cooldown must be a whole number of seconds", field="cooldown_s")
    if not MIN_COOLDOWN_S <= cooldown <= MAX_COOLDOWN_S:
        raise InvalidInput(
            f"cooldown must be between {MIN_COOLDOWN_S} s and 30 days", field="cooldown_s"
        )
    if not isinstance(spec.enabled, bool):
        raise InvalidInput("enabled must be true or false", field="enabled")
    name = check_text("name", spec.name, max_length=100, min_length=0)
    return AlertSpec(
        name=name
        or _default_name(kind, threshold, below=spec.below is True, window_s=spec.window_s),
        kind=kind,
        threshold=threshold,
        cooldown_s=cooldown,
        enabled=spec.enabled,
        goal_id=spec.goal_id if kind == AlertKind.GOAL.value else None,
        below=spec.below if kind == AlertKind.GOAL.value else False,
        window_s=spec.window_s if kind == AlertKind.GOAL.value else 3600,
    )


def _check_goal_rule(spec: AlertSpec, threshold: float) -> None:
    """A goal alert: a goal, a whole number of conversions from 1 (at least 0 would always
    fire, fewer than 0 never), and a window of whole minutes in range."""
    if spec.goal_id is None:
        raise InvalidInput(
            "a goal alert needs the goal whose conversions it counts", field="goalId"
        )
    if not isinstance(spec.below, bool):
        raise InvalidInput("below must be true or false", field="below")
    if not (threshold >= 1 and threshold.is_integer()):
        raise InvalidInput(
            "a goal threshold is a whole number of conversions, 1 or more",
            field="threshold",
        )
    window = spec.window_s
    if (
        isinstance(window, bool)
        or not isinstance(window, int)
        or window % 60
        or not MIN_GOAL_WINDOW_S <= window <= MAX_GOAL_WINDOW_S
    ):
        raise InvalidInput(
            "the window is a whole number of minutes from 5 to 10080 (7 days)",
            field="windowMinutes",
        )


async def _check_goal_of_site(session: AsyncSession, site_id: str, spec: AlertSpec) -> None:
    """A goal id is a value in the body: one of another site is a 400 naming it, as in stats."""
    if spec.goal_id is None:
        return
    goal = await session.get(Goal, spec.goal_id)
    if goal is None or goal.site_id != site_id:
        raise InvalidInput("goalId is not a goal of this site", field="goalId")


def _default_name(kind: str, threshold: float, *, below: bool = False, window_s: int = 0) -> str:
    if kind == AlertKind.SPIKE.value:
        return f"More than {int(threshold)} visitors at once"
    if kind == AlertKind.GOAL.value:
        where = "Fewer than" if below else "At least"
        return f"{where} {int(threshold)} conversions in {window_s // 60} minutes"
    return f"Visitors below {threshold:.0%} of usual"


async def list_alerts(session: AsyncSession, site_id: str) -> Sequence[Alert]:
    statement = (
        select(Alert).where(Alert.site_id == site_id).order_by(col(Alert.created_at), col(Alert.id))
    )
    return (await session.exec(statement)).all()


async def get_alert(session: AsyncSession, site_id: str, alert_id: uuid.UUID) -> Alert:
    """The site's alert; another site's (or organisation's) is the same 404 as none."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.site_id != site_id:
        raise NotFound("no such alert", field="alertId")
    return alert


async def create_alert(
    session: AsyncSession, site_id: str, spec: AlertSpec, *, created_by_id: uuid.UUID | None
) -> Alert:
    spec = check_alert(spec)
    await _check_goal_of_site(session, site_id, spec)
    metric = "conversions" if spec.kind == AlertKind.GOAL.value else "visitors"
    alert = Alert(
        site_id=site_id,
        name=spec.name,
        kind=spec.kind,
        metric=metric,
        threshold=spec.threshold,
        goal_id=spec.goal_id,
        below=spec.below,
        window_s=spec.window_s,
        cooldown_s=spec.cooldown_s,
        enabled=spec.enabled,
        created_by_id=created_by_id,
        next_check_at=utcnow(),
    )
    session.add(alert)
    await session.flush()
    return alert


async def update_alert(session: AsyncSession, alert: Alert, changes: dict[str, Any]) -> Alert:
    """Apply `changes` (AlertSpec fields); a changed rule starts from a clean state."""
    current = AlertSpec(
        name=alert.name,
        kind=alert.kind,
        threshold=alert.threshold,
        cooldown_s=alert.cooldown_s,
        enabled=alert.enabled,
        goal_id=alert.goal_id,
        below=alert.below,
        window_s=alert.window_s,
    )
    fields = {name: getattr(current, name) for name in AlertSpec.__dataclass_fields__}
    spec = check_alert(AlertSpec(**(fields | changes)))
    await _check_goal_of_site(session, alert.site_id, spec)
    rule = (spec.kind, spec.threshold, spec.goal_id, spec.below, spec.window_s)
    rule_changed = rule != (alert.kind, alert.threshold, alert.goal_id, alert.below, alert.window_s)
    alert.name, alert.kind, alert.threshold = spec.name, spec.kind, spec.threshold
    alert.goal_id, alert.below, alert.window_s = spec.goal_id, spec.below, spec.window_s
    alert.metric = "conversions" if spec.kind == AlertKind.GOAL.value else "visitors"
    alert.cooldown_s, alert.enabled = spec.cooldown_s, spec.enabled
    if rule_changed or not alert.enabled:
        alert.firing = False
    alert.next_check_at = utcnow()
    await session.flush()
    return alert


async def delete_alert(session: AsyncSession, alert: Alert) -> None:
    await session.delete(alert)
    await session.flush()


async def claim_due_alerts(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Sequence[Alert]:
    """Enabled alerts whose next check is due, leased to the claim `owner`."""
    due = col(Alert.enabled) & (col(Alert.next_check_at) <= now)
    return await claim(
        session,
        Alert,
        due,
        order_by=col(Alert.next_check_at),
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
    )
