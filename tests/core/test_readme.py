"""The README documents every setting a service reads, so a newcomer never has to read code."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from traytic.alerts.settings import AlertsSettings
from traytic.billing.settings import BillingSettings
from traytic.cli.dev import DevSettings
from traytic.consumer.settings import ConsumerSettings
from traytic.core.bus import BusSettings
from traytic.core.settings import describe
from traytic.db.settings import DbSettings
from traytic.gateway.settings import GatewaySettings
from traytic.query.settings import QuerySettings
from traytic.warehouse import WarehouseSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize(
    "settings",
    [
        BusSettings,
        GatewaySettings,
        ConsumerSettings,
        WarehouseSettings,
        DbSettings,
        QuerySettings,
        BillingSettings,
        AlertsSettings,
        DevSettings,
    ],
)
def test_every_setting_is_in_the_readme(settings: type[msgspec.Struct]) -> None:
    missing = [name for name, _ in describe(settings) if f"`{name}`" not in README]
    assert not missing, f"undocumented settings: {missing}"
