"""A site's scheduled reports, for the API and the CLI, and the scheduler's claim of report
recipients whose next report is due (or not yet scheduled)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Channel, Recipient, Report, ReportFrequency
from traytic.db.repositories.leases import claim
from traytic.db.validation import check_choice, check_text


@dataclass(frozen=True, slots=True)
class ReportSpec:
    name: str
    frequency: str = ReportFrequency.WEEKLY.value
    send_hour: int = 8
    enabled: bool = True


def check_report(spec: ReportSpec) -> ReportSpec:
    frequency = check_choice("frequency", spec.frequency, [f.value for f in ReportFrequency])
    hour = spec.send_hour
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise InvalidInput("send hour must be a whole hour from 0 to 23", field="send_hour")
    if not isinstance(spec.enabled, bool):
        raise InvalidInput("enabled must be true or false", field="enabled")
    name = check_text("name", spec.name, max_length=100, min_length=0)
    return ReportSpec(
        name=name or f"{frequency.capitalize()} report",
        frequency=frequency,
        send_hour=hour,
        enabled=spec.enabled,
    )


async def list_reports(session: AsyncSession, site_id: str) -> Sequence[Report]:
    statement = (
        select(Report)
        .where(Report.site_id == site_id)
        .order_by(col(Report.created_at), col(Report.id))
    )
    return (await session.exec(statement)).all()


async def get_report(session: AsyncSession, site_id: str, report_id: uuid.UUID) -> Report:
    report = await session.get(Report, report_id)
    if report is None or report.site_id != site_id:
        raise NotFound("no such report", field="reportId")
    return report


async def create_report(
    session: AsyncSession, site_id: str, spec: ReportSpec, *, created_by_id: uuid.UUID | None
) -> Report:
    spec = check_report(spec)
    report = Report(
        site_id=site_id,
        name=spec.name,
        frequency=spec.frequency,
        send_hour=spec.send_hour,
        enabled=spec.enabled,
        created_by_id=created_by_id,
    )
    session.add(report)
    await session.flush()
    return report


async def update_report(session: AsyncSession, report: Report, changes: dict[str, Any]) -> Report:
    """Apply `changes` (ReportSpec fields); a new schedule is worked out for every recipient."""
    current: dict[str, Any] = {
        "name": report.name,
        "frequency": report.frequency,
        "send_hour": report.send_hour,
        "enabled": report.enabled,
    }
    spec = check_report(ReportSpec(**(current | changes)))
    rescheduled = (spec.frequency, spec.send_hour) != (report.frequency, report.send_hour)
    report.name, report.frequency = spec.name, spec.frequency
    report.send_hour, report.enabled = spec.send_hour, spec.enabled
    if rescheduled:
        for recipient in await session.exec(
            select(Recipient).where(Recipient.report_id == report.id)
        ):
            recipient.next_run_at = None
    await session.flush()
    return report


async def delete_report(session: AsyncSession, report: Report) -> None:
    await session.delete(report)
    await session.flush()


async def claim_due_recipients(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Sequence[Recipient]:
    """Subscribed recipients of enabled reports that are due or not yet scheduled."""
    enabled = select(Report.id).where(col(Report.enabled))
    due = (
        col(Recipient.report_id).in_(enabled)
        & col(Recipient.unsubscribed_at).is_(None)
        & or_(col(Recipient.next_run_at).is_(None), col(Recipient.next_run_at) <= now)
    )
    return await claim(
        session,
        Recipient,
        due,
        order_by=col(Recipient.next_run_at),
        owner=owner,
        now=now,
        lease=lease,
        limit=limit,
    )


def is_email(recipient: Recipient) -> bool:
    return recipient.channel == Channel.EMAIL.value
