"""What `traytic dev` shares with the commands run beside it: its settings and `dev.json`.

Kept apart from `traytic.cli.dev`, which imports every service, so that `traytic demo` starts fast.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import msgspec


class DevSettings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: str = ".traytic"
    """Where the embedded mode keeps NATS, chDB and SQLite data, and `dev.json`."""
    public_url: str | None = None
    """The URL printed for trackers; default `http://localhost:<port>`."""


def read_info(info_file: Path) -> dict[str, Any]:
    """What the last `traytic dev` wrote to dev.json, or {} when there is nothing usable."""
    if not info_file.exists():
        return {}
    try:
        known = json.loads(info_file.read_text())
    except ValueError:
        return {}
    return known if isinstance(known, dict) else {}


def write_info(info_file: Path, info: dict[str, Any]) -> None:
    """Written whole or not at all (scripts and tests wait for the file, then read it at once),
    and readable by its owner only from its first byte: it holds the demo password and API key."""
    partial = info_file.with_name(f".{info_file.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(info, indent=2) + "\n")
    os.replace(partial, info_file)


SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)


def dev_secret_key(data_dir: Path) -> str:
    """`TRAYTIC_SECRET_KEY` for the dev mode: read from `<data dir>/secret_key`, made there
    (random, readable by its owner only) on the first run. Lost, it leaves the TOTP secrets
    sealed with it unreadable, so it is never made again over an existing one."""
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: two `traytic dev` starting at once cannot each write their own.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key
