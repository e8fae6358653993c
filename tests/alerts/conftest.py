"""Alert and report fixtures: a site in a real database (SQLite and PostgreSQL, from
tests/db/conftest.py) with its events in a real warehouse (chDB and the ClickHouse server),
the SMTP server and the HTTP receiver of `receivers.py`, and the scheduler running in-process
on a clock that starts at a chosen instant and then runs at real speed."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.receivers import Receiver, SmtpServer, receiver, smtp_server
from tests.db.conftest import (  # noqa: F401 - fixtures, reused by name
    _empty_tables,
    database_url,
    db,
    dialect,
    postgres_available,
    postgresql_url,
    sqlite_url,
)
from tests.db.factories import make_organisation
from tests.warehouse.stats.dataset import store
from traytic.alerts import AlertsSettings, running_scheduler
from traytic.alerts.scheduler import Scheduler
from traytic.db import Database
from traytic.db.models import Recipient
from traytic.db.repositories import alerts, recipients, reports, sites
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.recipients import RecipientSpec
from traytic.db.repositories.reports import ReportSpec
from traytic.warehouse import EventRow, Warehouse

SITE = "st_main"
TZ = "Europe/Berlin"


class RunningClock:
    """Unix time that starts at `start` and runs at real speed (so backoffs come due)."""

    def __init__(self, start: datetime) -> None:
        self.offset = start.timestamp() - time.time()

    def time(self) -> float:
        return time.time() + self.offset

    def jump_to(self, instant: datetime) -> None:
        self.offset = instant.timestamp() - time.time()


def fast_settings(smtp: SmtpServer | None, **overrides: Any) -> AlertsSettings:
    values: dict[str, Any] = {
        "public_url": "http://traytic.test",
        # a few rounds a second: SQLite serialises writers, and a claim is a write
        "alerts_tick_s": 0.25,
        "alerts_check_interval_s": 0.5,
        "alerts_lease_s": 12.0,
        "alerts_retry_base_s": 0.1,
        "alerts_retry_max_s": 0.4,
        "alerts_max_attempts": 3,
        # generous: a loaded CI machine answers slowly, and a timeout here is a retry
        "alerts_http_timeout_s": 5.0,
        "smtp_timeout_s": 5.0,
    }
    if smtp is not None:
        values |= {
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "starttls",
            "smtp_ca_file": smtp.ca_file,
            "mail_from": "Traytic <reports@traytic.test>",
        }
    return AlertsSettings(**(values | overrides)).check()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@dataclass
class World:
    db: Database
    warehouse: Warehouse
    site_id: str

    async def store(self, rows: Sequence[EventRow]) -> None:
        await store(self.warehouse, list(rows))

    async def report(
        self, wanted: list[RecipientSpec], *, frequency: str = "weekly", hour: int = 8
    ) -> tuple[uuid.UUID, list[Recipient]]:
        async with self.db.session() as session:
            report = await reports.create_report(
                session,
                self.site_id,
                ReportSpec(name="", frequency=frequency, send_hour=hour),
                created_by_id=None,
            )
            rows = await recipients.set_recipients(
                session, recipients.check_recipients(wanted, TZ), report_id=report.id
            )
            return report.id, rows

    async def alert(
        self, spec: AlertSpec, wanted: list[RecipientSpec]
    ) -> tuple[uuid.UUID, list[Recipient]]:
        async with self.db.session() as session:
            alert = await alerts.create_alert(session, self.site_id, spec, created_by_id=None)
            alert.next_check_at = datetime(2000, 1, 1, tzinfo=UTC)  # due on the test's clock
            rows = await recipients.set_recipients(
                session, recipients.check_recipients(wanted, TZ), alert_id=alert.id
            )
            return alert.id, rows

    @contextlib.asynccontextmanager
    async def scheduler(
        self, settings: AlertsSettings, clock: RunningClock
    ) -> AsyncIterator[Scheduler]:
        async with running_scheduler(
            self.db, self.warehouse, settings, clock=clock.time
        ) as running:
            assert running is not None
            yield running


@pytest.fixture
async def world(db: Database, warehouse: Warehouse) -> World:  # noqa: F811
    async with db.session() as session:
        organisation = await make_organisation(session)
        await sites.create_site(
            session, organisation.id, domain="example.com", time_zone=TZ, site_id=SITE
        )
    return World(db, warehouse, SITE)
