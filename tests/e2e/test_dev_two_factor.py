"""`make dev` needs nothing set for two-factor sign-in: `traytic dev` makes its own secret key
on the first run, keeps it in the data directory (owner-only), and a restart opens the TOTP
secret it sealed, so the demo account signs in with a code from its app again."""

from __future__ import annotations

import json
import sqlite3
import stat
import time
from pathlib import Path

import httpx
import pyotp

from tests.e2e.conftest import start_dev


async def test_two_factor_works_across_a_restart_with_the_key_dev_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_dev(data)
    try:
        info = json.loads((data / "dev.json").read_text())
        credentials = {"email": info["email"], "password": info["password"]}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first.port}") as client:
            assert (await client.post("/api/auth/login", json=credentials)).status_code == 200
            csrf = {"X-CSRF-Token": client.cookies["traytic_csrf"]}
            setup = await client.post("/api/auth/two-factor/setup", headers=csrf)
            assert setup.status_code == 201, setup.text
            secret = setup.json()["secret"]
            totp = pyotp.TOTP(secret)
            step = totp.timecode(time.time())
            enabled = await client.post(
                "/api/auth/two-factor/enable",
                json={"code": totp.generate_otp(step)},
                headers=csrf,
            )
            assert enabled.status_code == 200, enabled.text
    finally:
        assert first.stop() == 0
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with sqlite3.connect(data / "traytic.db") as db:
        (stored,) = db.execute("SELECT secret FROM two_factor").fetchone()
    assert stored.startswith("sk1.") and secret not in stored

    (data / "dev.json").unlink()  # start_dev waits for it (the demo password is reset)
    second = start_dev(data)
    try:
        assert "two_factor_secret" not in second.log_text()  # nothing it cannot open
        info = json.loads((data / "dev.json").read_text())
        credentials = {"email": info["email"], "password": info["password"]}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second.port}") as client:
            pending = await client.post("/api/auth/login", json=credentials)
            assert pending.status_code == 202, pending.text
            signed_in = await client.post(
                "/api/auth/login/code",
                json={
                    "pendingToken": pending.json()["pendingToken"],
                    "code": totp.generate_otp(step + 1),
                },
            )
            assert signed_in.status_code == 200, signed_in.text
    finally:
        assert second.stop() == 0
