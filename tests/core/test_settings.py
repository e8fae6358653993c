"""Settings come from TRAYTIC_* variables, typed, with errors that name the variable."""

from __future__ import annotations

import pytest

from traytic.core.bus import BusSettings
from traytic.core.errors import ConfigurationError
from traytic.core.settings import describe, load_settings
from traytic.gateway.settings import GatewaySettings


def test_defaults_work_without_any_variable() -> None:
    settings = load_settings(GatewaySettings, environ={})
    assert settings.port == 3001
    assert settings.trusted_proxies == []


def test_values_are_converted_from_strings() -> None:
    settings = load_settings(
        GatewaySettings,
        environ={
            "TRAYTIC_PORT": "8080",
            "TRAYTIC_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "TRAYTIC_PUBLISH_TIMEOUT_S": "1.5",
        },
    )
    assert settings.port == 8080
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    assert settings.publish_timeout_s == 1.5


def test_wrong_type_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(GatewaySettings, environ={"TRAYTIC_PORT": "eighty"})
    assert "TRAYTIC_PORT" in raised.value.message


def test_overrides_win_over_environment() -> None:
    settings = load_settings(BusSettings, environ={"TRAYTIC_NAMESPACE": "a"}, namespace="b")
    assert settings.namespace == "b"


def test_describe_lists_every_field() -> None:
    rows = dict(describe(BusSettings))
    assert rows["TRAYTIC_NATS_URL"] == "nats://127.0.0.1:4222"
    assert len(rows) == len(BusSettings.__struct_fields__)
