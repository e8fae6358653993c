"""Turning due reports and alert checks into deliveries (the outbox), exactly once.

Each round claims due rows under a lease, reads the numbers and renders the messages outside
any transaction, then writes the deliveries and the next due time in one transaction, but only
if the claim still holds. A replica that dies mid-round leaves its rows leased; when the lease
ends another replica does the round again, and the deliveries' keys keep it from writing a
message twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.alerts import render, rules, schedule
from traytic.alerts.figures import (
    ReportFigures,
    current_visitors,
    day_to_date,
    goal_conversions,
    report_figures,
)
from traytic.alerts.render import AlertContext, Rendered, ReportContext, SiteInfo
from traytic.alerts.settings import AlertsSettings
from traytic.db import Database
from traytic.db.models import Alert, AlertKind, Channel, Delivery, Goal, Recipient, Report, Site
from traytic.db.repositories import alerts as alert_repository
from traytic.db.repositories import deliveries, recipients
from traytic.db.repositories import goals as goal_repository
from traytic.db.repositories import reports as report_repository
from traytic.db.repositories.leases import holds, release
from traytic.db.tokens import unsubscribe_token
from traytic.warehouse.stats import Stats, matching
from traytic.warehouse.stats.revenue import Conversion

log = structlog.get_logger()


class Claim(Protocol):
    """`claim_due_recipients` or `claim_due_alerts`."""

    async def __call__(
        self, session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[Alert] | Sequence[Recipient]: ...


@dataclass(frozen=True, slots=True)
class Planner:
    db: Database
    stats: Stats
    settings: AlertsSettings
    now: Callable[[], datetime]
    claim_name: Callable[[], str]

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.alerts_lease_s)

    def unsubscribe_url(self, recipient: Recipient) -> str:
        base = self.settings.public_url.rstrip("/")
        return f"{base}/unsubscribe/{unsubscribe_token(recipient)}"

    def _delivery(
        self,
        site_id: str,
        recipient: Recipient,
        rendered: Rendered,
        key: str,
        *,
        alert_id: uuid.UUID | None = None,
        report_id: uuid.UUID | None = None,
    ) -> Delivery:
        return Delivery(
            key=key,
            site_id=site_id,
            recipient_id=recipient.id,
            channel=recipient.channel,
            target=recipient.target,
            subject=rendered.subject[:300],
            body=rendered.body,
            next_attempt_at=self.now(),
            alert_id=alert_id,
            report_id=report_id,
        )

    async def _claim(self, claim: Claim) -> tuple[str, list[uuid.UUID]]:
        """A claim's name and the ids of the rows it leased (in a transaction of its own)."""
        owner = self.claim_name()
        async with self.db.session() as session:
            claimed = await claim(
                session,
                owner=owner,
                now=self.now(),
                lease=self.lease,
                limit=self.settings.alerts_batch,
            )
            return owner, [row.id for row in claimed]

    # ---- reports

    async def plan_reports(self) -> int:
        """Claim due report recipients and write their deliveries; how many were written."""
        owner, ids = await self._claim(report_repository.claim_due_recipients)
        cache: dict[tuple[str, schedule.Period, str], ReportFigures] = {}
        written = 0
        for recipient_id in ids:
            try:
                written += await self._plan_recipient(recipient_id, owner, cache)
            except Exception:
                # The lease stays: another round tries again once it ends.
                log.exception("report_planning_failed", recipient_id=str(recipient_id))
        return written

    async def _plan_recipient(
        self,
        recipient_id: uuid.UUID,
        owner: str,
        cache: dict[tuple[str, schedule.Period, str], ReportFigures],
    ) -> int:
        async with self.db.session() as session:
            recipient = await session.get(Recipient, recipient_id)
            report = await session.get(Report, recipient.report_id) if recipient else None
            site = await session.get(Site, report.site_id) if report else None
            goals = await goal_repository.list_goals(session, site.id) if site else []
        if recipient is None or report is None or site is None:
            return 0
        zone = ZoneInfo(recipient.time_zone)
        now = self.now()
        if recipient.next_run_at is None or site.deleted_at is not None:
            upcoming = schedule.next_run(report.frequency, report.send_hour, zone, now)
            await self._reschedule(recipient_id, owner, upcoming)
            return 0
        due = schedule.due_report(
            report.frequency,
            report.send_hour,
            zone,
            scheduled=recipient.next_run_at,
            now=now,
            late_after=timedelta(seconds=self.settings.alerts_late_after_s),
        )
        if due.skipped:
            log.warning(
                "report_runs_skipped",
                report_id=str(report.id),
                recipient_id=str(recipient.id),
                skipped=due.skipped,
            )
        cache_key = (site.id, due.period, recipient.time_zone)
        if cache_key not in cache:
            # Revenue in the site's currency; this process holds no exchange rates (the query
            # service does), so revenue sent in another currency is named as not converted.
            cache[cache_key] = await report_figures(
                self.stats,
                site.id,
                due.period,
                recipient.time_zone,
                goals=[matching.Goal.of(goal) for goal in goals],
                conversion=Conversion(site.currency, {site.currency: 1.0}),
            )
        context = ReportContext(
            site=SiteInfo(site.id, site.domain, site.name),
            name=report.name,
            frequency=report.frequency,
            figures=cache[cache_key],
            dashboard_url=render.dashboard_url(
                self.settings.public_url,
                site.id,
                **{"from": due.period.first.isoformat(), "to": due.period.last.isoformat()},
            ),
            late=due.late,
            due_at=due.run,
            skipped=due.skipped,
        )
        key = f"report:{report.id}:{recipient.id}:{due.period.first.isoformat()}"
        # Drawing the chart and the HTML is CPU work: off the event loop, which may be holding
        # a transaction (on SQLite, the write lock every other writer waits for).
        rendered = await asyncio.to_thread(self._render_report, context, recipient, key)
        delivery = self._delivery(site.id, recipient, rendered, key, report_id=report.id)
        delivery.late = due.late
        async with self.db.session() as session:
            row = await self._held(session, recipient_id, owner)
            if row is None:
                return 0
            added = await deliveries.add_delivery(session, delivery)
            row.next_run_at = due.next_run
            release(row)
        log.info(
            "report_planned",
            report_id=str(report.id),
            channel=recipient.channel,
            period=due.period.first.isoformat(),
            late=due.late,
        )
        return int(added)

    def _render_report(self, context: ReportContext, recipient: Recipient, key: str) -> Rendered:
        if recipient.channel == Channel.EMAIL.value:
            return render.report_email(context, self.unsubscribe_url(recipient))
        if recipient.channel == Channel.SLACK.value:
            return render.report_slack(context)
        return render.report_webhook(context, key)

    async def _held(
        self, session: AsyncSession, recipient_id: uuid.UUID, owner: str
    ) -> Recipient | None:
        row = await session.get(
            Recipient, recipient_id, with_for_update=True, populate_existing=True
        )
        return row if row is not None and holds(row, owner) else None

    async def _reschedule(self, recipient_id: uuid.UUID, owner: str, upcoming: datetime) -> None:
        async with self.db.session() as session:
            row = await self._held(session, recipient_id, owner)
            if row is not None:
                row.next_run_at = upcoming
                release(row)

    # ---- alerts

    def check_interval(self, kind: str) -> timedelta:
        if kind == AlertKind.DROP.value:
            return timedelta(seconds=self.settings.alerts_drop_check_interval_s)
        return timedelta(seconds=self.settings.alerts_check_interval_s)

    async def check_alerts(self) -> int:
        """Claim alerts whose check is due, check them, write deliveries for those that fire;
        how many deliveries were written."""
        owner, ids = await self._claim(alert_repository.claim_due_alerts)
        written = 0
        for alert_id in ids:
            try:
                written += await self._check_alert(alert_id, owner)
            except Exception:
                log.exception("alert_check_failed", alert_id=str(alert_id))
                await self._after_check(alert_id, owner, None)
        return written

    async def _check_alert(self, alert_id: uuid.UUID, owner: str) -> int:
        async with self.db.session() as session:
            alert = await session.get(Alert, alert_id)
            site = await session.get(Site, alert.site_id) if alert else None
            goal = await session.get(Goal, alert.goal_id) if alert and alert.goal_id else None
            listed: Sequence[Recipient] = (
                await recipients.list_recipients(session, alert_id=alert_id) if alert else []
            )
        if alert is None or site is None or site.deleted_at is not None:
            await self._after_check(alert_id, owner, None)
            return 0
        now = self.now()
        usual: float | None = None
        if alert.kind == AlertKind.SPIKE.value:
            value = float(await current_visitors(self.stats, site.id, site.time_zone, now))
            condition = rules.spike_condition(int(value), alert.threshold)
        elif alert.kind == AlertKind.GOAL.value:
            if goal is None:  # deleted with its goal by the cascade; nothing left to count
                await self._after_check(alert_id, owner, None)
                return 0
            count = await goal_conversions(
                self.stats,
                site.id,
                matching.Goal.of(goal),
                tz=site.time_zone,
                now=now,
                window_s=alert.window_s,
            )
            value = float(count)
            condition = rules.goal_condition(count, alert.threshold, below=alert.below)
        else:
            figures = await day_to_date(
                self.stats, site.id, site.time_zone, now, self.settings.alerts_drop_weeks
            )
            value, usual = float(figures.today), figures.usual
            condition = rules.drop_condition(
                figures,
                alert.threshold,
                min_usual=self.settings.alerts_drop_min_visitors,
                min_hours=self.settings.alerts_drop_min_hours,
            )
        verdict = rules.decide(
            condition,
            was_firing=alert.firing,
            last_fired_at=alert.last_fired_at,
            cooldown=timedelta(seconds=alert.cooldown_s),
            now=now,
        )
        pending: list[Delivery] = []
        if verdict.fire:
            context = AlertContext(
                site=SiteInfo(site.id, site.domain, site.name),
                alert_id=str(alert.id),
                name=alert.name,
                kind=alert.kind,
                threshold=alert.threshold,
                value=value,
                usual=usual,
                fired_at=now,
                tz=site.time_zone,
                dashboard_url=render.dashboard_url(self.settings.public_url, site.id),
                goal=(str(goal.id), goal.name) if goal is not None else None,
                below=alert.below,
                window_s=alert.window_s,
            )
            for recipient in listed:
                if recipient.unsubscribed_at is not None:
                    continue
                key = f"alert:{alert.id}:{now:%Y%m%dT%H%M%S}:{recipient.id}"
                rendered = self._render_alert(context, recipient, key)
                pending.append(self._delivery(site.id, recipient, rendered, key, alert_id=alert.id))
        written = await self._after_check(alert_id, owner, (verdict, value, now, pending))
        if verdict.fire:
            log.info("alert_fired", alert_id=str(alert.id), kind=alert.kind, value=value)
        return written

    def _render_alert(self, context: AlertContext, recipient: Recipient, key: str) -> Rendered:
        if recipient.channel == Channel.EMAIL.value:
            return render.alert_email(context, self.unsubscribe_url(recipient))
        if recipient.channel == Channel.SLACK.value:
            return render.alert_slack(context)
        return render.alert_webhook(context, key)

    async def _after_check(
        self,
        alert_id: uuid.UUID,
        owner: str,
        outcome: tuple[rules.Verdict, float, datetime, list[Delivery]] | None,
    ) -> int:
        """Record the check (or, with no outcome, only schedule the next one) and write the
        deliveries, if the claim still holds."""
        written = 0
        async with self.db.session() as session:
            row = await session.get(Alert, alert_id, with_for_update=True, populate_existing=True)
            if row is None or not holds(row, owner):
                return 0
            now = self.now()
            if outcome is not None:
                verdict, value, checked_at, pending = outcome
                row.firing = verdict.firing
                row.last_value = value
                row.last_checked_at = checked_at
                if verdict.fire:
                    row.last_fired_at = checked_at
                for delivery in pending:
                    written += int(await deliveries.add_delivery(session, delivery))
            row.next_check_at = now + self.check_interval(row.kind)
            release(row)
        return written
