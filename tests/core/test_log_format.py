"""Logs are read by whoever reads them: a person at a terminal gets aligned console lines, a
pipe (a container, a log collector) gets JSON lines. Checked on a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

SCRIPT = """
import logging, structlog
from traytic.core.logging import configure_logging
configure_logging(*{args!r})
structlog.get_logger().info("gateway_started", sites=3, ip="81.2.69.142")
logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001")
"""


def _run_on_a_terminal(*args: str) -> str:
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(args=args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            timeout=60,
            check=True,
        )
        assert process.returncode == 0
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(leader)


def _run_into_a_pipe(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr


def test_a_terminal_gets_console_lines() -> None:
    text = _run_on_a_terminal()
    assert "\x1b[" in text  # coloured
    lines = [line for line in text.replace("\r", "").splitlines() if line.strip()]
    assert len(lines) == 2
    for line in lines:
        with pytest.raises(ValueError):
            json.loads(line)
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert all(re.match(r"\d\d:\d\d:\d\d \[info", line) for line in plain)  # time of day
    assert "gateway_started" in lines[0] and "sites" in lines[0]
    assert "81.2.69.142" not in text  # redaction holds on the console too
    assert "Running upgrade 0001" in lines[1]


def test_a_pipe_gets_json_lines() -> None:
    lines = _run_into_a_pipe().splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0]["event"] == "gateway_started" and records[0]["sites"] == 3
    assert "ip" not in records[0]
    assert records[0]["timestamp"].endswith("Z")
    assert records[1]["event"] == "Running upgrade 0001"


def test_the_format_can_be_forced_either_way() -> None:
    assert json.loads(_run_on_a_terminal("info", "json").splitlines()[0])["sites"] == 3
    console = _run_into_a_pipe("info", "console")
    assert "gateway_started" in console and not console.lstrip().startswith("{")
