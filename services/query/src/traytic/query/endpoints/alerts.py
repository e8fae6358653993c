"""`/api/orgs/{orgId}/sites/{siteId}/alerts`, `/reports` and `/deliveries`: traffic alerts,
scheduled reports and the messages they sent. Members and the organisation's API keys read;
admins and owners write. Another organisation's site, alert or report is the same 404 as none.
The scheduler (hosted by the billing service) picks changes up on its next round."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.access import OrgAccess, Permission
from traytic.db.errors import NotFound
from traytic.db.models import DeliveryStatus, Site
from traytic.db.repositories import alerts, deliveries, recipients, reports
from traytic.db.repositories import sites as site_repository
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.reports import ReportSpec
from traytic.query.access import provide_org_access, provide_org_read_access
from traytic.query.alert_schemas import (
    AlertIn,
    AlertOut,
    AlertPatch,
    DeliveryOut,
    RecipientIn,
    ReportIn,
    ReportOut,
    ReportPatch,
)

_READ = {"access": Provide(provide_org_read_access)}
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Newest first, at most this many.")]


async def _site(session: AsyncSession, access: OrgAccess, site_id: str) -> Site:
    site = await site_repository.get_site(session, access.organisation.id, site_id)
    if site is None:
        raise NotFound("no such site", field="siteId")
    return site


def _admin(access: OrgAccess) -> bool:
    return access.allows(Permission.MANAGE_ALERTS)


def _specs(wanted: list[RecipientIn], site: Site) -> list[recipients.RecipientSpec]:
    return recipients.check_recipients([r.spec() for r in wanted], site.time_zone)


def _changes(patch: msgspec.Struct, skip: tuple[str, ...] = ("recipients",)) -> dict[str, Any]:
    return {
        name: value
        for name in patch.__struct_fields__
        if name not in skip and (value := getattr(patch, name)) is not msgspec.UNSET
    }


class AlertController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/alerts"
    tags = ["alerts"]
    dependencies = {"access": Provide(provide_org_access)}

    async def _out(self, session: AsyncSession, alert: Any, access: OrgAccess) -> AlertOut:
        listed = list(await recipients.list_recipients(session, alert_id=alert.id))
        return AlertOut.of(alert, listed, _admin(access))

    @get("/", dependencies=_READ)
    async def list_alerts(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> list[AlertOut]:
        site = await _site(db_session, access, site_id)
        return [
            await self._out(db_session, alert, access)
            for alert in await alerts.list_alerts(db_session, site.id)
        ]

    @post("/", status_code=201)
    async def create_alert(
        self,
        site_id: FromPath[str],
        data: JSONBody[AlertIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> AlertOut:
        """A spike, drop or goal alert and who gets it (checked within the scheduler's next
        round)."""
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        spec = AlertSpec(
            name=data.name,
            kind=data.kind,
            threshold=data.threshold,
            cooldown_s=data.cooldown_minutes * 60,
            enabled=data.enabled,
            goal_id=data.goal_id,
            below=data.below,
            window_s=data.window_minutes * 60,
        )
        wanted = _specs(data.recipients, site)
        alert = await alerts.create_alert(
            db_session, site.id, spec, created_by_id=access.user.id if access.user else None
        )
        await recipients.set_recipients(db_session, wanted, alert_id=alert.id)
        return await self._out(db_session, alert, access)

    @get("/{alert_id:uuid}", dependencies=_READ)
    async def get_alert(
        self,
        site_id: FromPath[str],
        alert_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> AlertOut:
        site = await _site(db_session, access, site_id)
        alert = await alerts.get_alert(db_session, site.id, alert_id)
        return await self._out(db_session, alert, access)

    @patch("/{alert_id:uuid}")
    async def update_alert(
        self,
        site_id: FromPath[str],
        alert_id: FromPath[uuid.UUID],
        data: JSONBody[AlertPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> AlertOut:
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        alert = await alerts.get_alert(db_session, site.id, alert_id)
        changes = _changes(data)
        if "cooldown_minutes" in changes:
            changes["cooldown_s"] = changes.pop("cooldown_minutes") * 60
        if "window_minutes" in changes:
            changes["window_s"] = changes.pop("window_minutes") * 60
        await alerts.update_alert(db_session, alert, changes)
        if data.recipients is not msgspec.UNSET:
            wanted = _specs(data.recipients, site)
            await recipients.set_recipients(db_session, wanted, alert_id=alert.id)
        return await self._out(db_session, alert, access)

    @delete("/{alert_id:uuid}", status_code=204)
    async def delete_alert(
        self,
        site_id: FromPath[str],
        alert_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        await alerts.delete_alert(db_session, await alerts.get_alert(db_session, site.id, alert_id))


class ReportController(Controller):
    path = "/api/orgs/{org_id:uuid}/sites/{site_id:str}/reports"
    tags = ["reports"]
    dependencies = {"access": Provide(provide_org_access)}

    async def _out(self, session: AsyncSession, report: Any, access: OrgAccess) -> ReportOut:
        listed = list(await recipients.list_recipients(session, report_id=report.id))
        return ReportOut.of(report, listed, _admin(access))

    @get("/", dependencies=_READ)
    async def list_reports(
        self,
        site_id: FromPath[str],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> list[ReportOut]:
        site = await _site(db_session, access, site_id)
        return [
            await self._out(db_session, report, access)
            for report in await reports.list_reports(db_session, site.id)
        ]

    @post("/", status_code=201)
    async def create_report(
        self,
        site_id: FromPath[str],
        data: JSONBody[ReportIn],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> ReportOut:
        """A weekly or monthly report to its recipients, each in their own time zone."""
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        spec = ReportSpec(
            name=data.name,
            frequency=data.frequency,
            send_hour=data.send_hour,
            enabled=data.enabled,
        )
        wanted = _specs(data.recipients, site)
        report = await reports.create_report(
            db_session, site.id, spec, created_by_id=access.user.id if access.user else None
        )
        await recipients.set_recipients(db_session, wanted, report_id=report.id)
        return await self._out(db_session, report, access)

    @get("/{report_id:uuid}", dependencies=_READ)
    async def get_report(
        self,
        site_id: FromPath[str],
        report_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> ReportOut:
        site = await _site(db_session, access, site_id)
        report = await reports.get_report(db_session, site.id, report_id)
        return await self._out(db_session, report, access)

    @patch("/{report_id:uuid}")
    async def update_report(
        self,
        site_id: FromPath[str],
        report_id: FromPath[uuid.UUID],
        data: JSONBody[ReportPatch],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> ReportOut:
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        report = await reports.get_report(db_session, site.id, report_id)
        await reports.update_report(db_session, report, _changes(data))
        if data.recipients is not msgspec.UNSET:
            wanted = _specs(data.recipients, site)
            await recipients.set_recipients(db_session, wanted, report_id=report.id)
        return await self._out(db_session, report, access)

    @delete("/{report_id:uuid}", status_code=204)
    async def delete_report(
        self,
        site_id: FromPath[str],
        report_id: FromPath[uuid.UUID],
        access: NamedDependency[OrgAccess],
        db_session: NamedDependency[AsyncSession],
    ) -> None:
        access.require(Permission.MANAGE_ALERTS)
        site = await _site(db_session, access, site_id)
        report = await reports.get_report(db_session, site.id, report_id)
        await reports.delete_report(db_session, report)


@get(
    "/api/orgs/{org_id:uuid}/sites/{site_id:str}/deliveries",
    dependencies=_READ,
    tags=["alerts", "reports"],
)
async def list_deliveries(
    *,
    site_id: FromPath[str],
    access: NamedDependency[OrgAccess],
    db_session: NamedDependency[AsyncSession],
    alert_id: Annotated[uuid.UUID | None, QueryParameter(name="alertId")] = None,
    report_id: Annotated[uuid.UUID | None, QueryParameter(name="reportId")] = None,
    status: Annotated[
        DeliveryStatus | None, QueryParameter(description="Only deliveries in this state.")
    ] = None,
    limit: Limit = 50,
) -> list[DeliveryOut]:
    """The site's alert and report messages, newest first: what was sent, what is waiting to
    be tried again, and what failed and why."""
    site = await _site(db_session, access, site_id)
    rows = await deliveries.list_deliveries(
        db_session,
        site.id,
        alert_id=alert_id,
        report_id=report_id,
        status=status.value if status else None,
        limit=limit,
    )
    return [DeliveryOut.of(row, _admin(access)) for row in rows]
