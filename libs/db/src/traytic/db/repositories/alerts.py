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
from traytic.db.models import Alert, AlertKind, utcnow
from traytic.db.repositories.leases import claim
from traytic.db.validation import check_choice, check_text

MIN_COOLDOWN_S = 60
MAX_COOLDOWN_S = 30 * 86_400
SUPPORTED_KINDS = (AlertKind.SPIKE.value, AlertKind.DROP.value)
"""Goal alerts wait for goals to have conversions in the stats API (the seam is
`traytic.alerts.rules`); until then they are refused with a 400 that says so."""


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
    kind = check_choice("kind", spec.kind, [k.value for k in AlertKind])
    if kind not in SUPPORTED_KINDS:
        raise InvalidInput(
            "goal alerts need goal conversions, which this version does not count yet",
            field="kind",
        )
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
        name=name or _default_name(kind, threshold),
        kind=kind,
        threshold=threshold,
        cooldown_s=cooldown,
        enabled=spec.enabled,
    )


def _default_name(kind: str, threshold: float) -> str:
    if kind == AlertKind.SPIKE.value:
        return f"More than {int(threshold)} visitors at once"
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
    metric = "conversions" if spec.kind == AlertKind.GOAL.value else "visitors"
    alert = Alert(
        site_id=site_id,
        name=spec.name,
        kind=spec.kind,
        metric=metric,
        threshold=spec.threshold,
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
    )
    fields = {name: getattr(current, name) for name in AlertSpec.__dataclass_fields__}
    spec = check_alert(AlertSpec(**(fields | changes)))
    rule_changed = (spec.kind, spec.threshold) != (alert.kind, alert.threshold)
    alert.name, alert.kind, alert.threshold = spec.name, spec.kind, spec.threshold
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
