"""What `traytic dev` shares with the commands run beside it: its settings and `dev.json`.

Kept apart from `traytic.cli.dev`, which imports every service, so that `traytic demo` starts fast.
"""

from __future__ import annotations

import json
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
    info_file.write_text(json.dumps(info, indent=2) + "\n")
    info_file.chmod(0o600)  # it holds the demo password and API key
