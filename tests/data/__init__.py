"""Files the tests read, kept in the repository: a test reads nothing outside it."""

from __future__ import annotations

from pathlib import Path

MAXMIND = Path(__file__).resolve().parent / "maxmind"
"""MaxMind's own test databases (MIT licensed, see maxmind/README.md)."""
