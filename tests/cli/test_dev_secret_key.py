"""`traytic dev` needs no `TRAYTIC_SECRET_KEY`: it makes one on the first run, keeps it in its
data directory (readable by its owner only) and finds the same one at every later run, so what
it sealed (TOTP secrets) opens after a restart. A key the operator sets wins."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from traytic.cli.dev import _dev_db_settings
from traytic.db.keyring import MIN_KEY_LENGTH, TWO_FACTOR_SECRET, Keyring


def test_the_dev_mode_makes_a_key_once_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAYTIC_SECRET_KEY", raising=False)
    monkeypatch.delenv("TRAYTIC_DATABASE_URL", raising=False)
    data = tmp_path / ".traytic"
    first = _dev_db_settings(data)
    assert len(first.secret_key) >= MIN_KEY_LENGTH
    kept = data / "secret_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    sealed = Keyring.from_settings(first).seal(TWO_FACTOR_SECRET, "JBSWY3DP", context="u")

    again = _dev_db_settings(data)  # the next `make dev`
    assert again.secret_key == first.secret_key
    assert Keyring.from_settings(again).open(TWO_FACTOR_SECRET, sealed, context="u") == "JBSWY3DP"
    assert _dev_db_settings(tmp_path / "other").secret_key != first.secret_key


def test_a_key_the_operator_sets_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAYTIC_SECRET_KEY", "operator-key-" + "x" * 32)
    monkeypatch.delenv("TRAYTIC_DATABASE_URL", raising=False)
    settings = _dev_db_settings(tmp_path)
    assert settings.secret_key == "operator-key-" + "x" * 32
    assert not (tmp_path / "secret_key").exists()
