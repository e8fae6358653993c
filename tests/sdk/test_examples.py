"""The shared example beacons in `sdk/js/examples` against the Python side of the wire contract.

The TypeScript tests check the same files against the SDK's types, so a field renamed or
constrained on one side only fails one of the two suites.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from traytic.core.events import Beacon, decode_beacon

EXAMPLES = Path(__file__).resolve().parents[2] / "sdk" / "js" / "examples"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))
FAULTS: dict[str, str] = json.loads((EXAMPLES / "faults.json").read_text())


def fault_path(error: msgspec.ValidationError) -> str:
    """The path of the field msgspec complains about, a missing field included."""
    message = str(error)
    at = re.search(r"- at `([^`]+)`$", message)
    path = at.group(1) if at else "$"
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    return f"{path}.{missing.group(1)}" if missing else path


def test_examples_exist() -> None:
    assert len(VALID) >= 5
    assert len(INVALID) >= 10


def test_every_invalid_example_names_its_fault() -> None:
    assert sorted(FAULTS) == sorted(path.name for path in INVALID)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_decodes(path: Path) -> None:
    beacon = decode_beacon(path.read_bytes())

    assert isinstance(beacon, Beacon)
    raw = json.loads(path.read_text())
    assert beacon.site_id == raw["siteId"]
    assert [type(event).__struct_config__.tag for event in beacon.events] == [
        event["type"] for event in raw["events"]
    ]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_is_rejected_for_its_field(path: Path) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        decode_beacon(path.read_bytes())

    assert fault_path(caught.value) == FAULTS[path.name]
