"""No log line may carry a raw IP, a user agent, a secret or credentials."""

from __future__ import annotations

import json

import pytest
import structlog

from traytic.core.logging import configure_logging


def test_sensitive_fields_are_removed(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = structlog.get_logger()
    log.info(
        "beacon",
        site_id="st_1",
        ip="203.0.113.9",
        user_agent="Mozilla/5.0 Secret",
        authorization="Bearer abc",
        paystack_secret_key="sk_live_x",
        csrf_token="t",
        headers={"Authorization": "Bearer abc", "accept": "json"},
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "beacon"
    assert record["site_id"] == "st_1"
    assert record["headers"] == {"accept": "json"}
    for leaked in ("203.0.113.9", "Mozilla", "Bearer", "sk_live", '"t"'):
        assert leaked not in line


def test_standard_library_loggers_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    configure_logging("info", "json")
    logging.getLogger("nats").warning("hello", extra={"ip": "203.0.113.9"})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["event"] == "hello"
    assert "203.0.113.9" not in line
