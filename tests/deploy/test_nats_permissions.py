"""The NATS users of deploy/nats/nats.conf let each service do what its code does, and no more.

A nats-server runs with that very file (its passwords from the environment, as compose gives
them), and the real code runs under each user: the gateway app takes a beacon, the consumer
pipeline stores it in chDB and publishes it live, the query service's registry writes the
`sites` bucket and reads the live subject, billing writes a quota flag. Then each user is shown
the door for what belongs to another service.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.errors import Error as NatsError

from tests.fixtures.clickhouse import fresh_chdb_settings
from traytic.consumer.main import running_consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.embedded_nats import find_nats_server, free_port
from traytic.core.events import LIVE_DECODER
from traytic.core.sites import create_site, delete_site, get_site
from traytic.gateway.app import create_app
from traytic.gateway.settings import GatewaySettings

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"
USERS = ("gateway", "consumer", "query", "billing")


class AuthNats(msgspec.Struct):
    url: str
    passwords: dict[str, str]

    def settings(self, user: str) -> bus.BusSettings:
        return bus.BusSettings(
            nats_url=self.url, nats_user=user, nats_password=self.passwords[user]
        )


@pytest.fixture(scope="module")
def auth_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthNats]:
    folder = tmp_path_factory.mktemp("nats-auth")
    # As .env.example says to make them: nats-server reads a value starting with a digit (which
    # token_urlsafe gives now and then) as a number and refuses the file.
    passwords = {user: "p" + secrets.token_hex(16) for user in USERS}
    env = {f"NATS_{user.upper()}_PASSWORD": password for user, password in passwords.items()}
    port = free_port()
    process = subprocess.Popen(
        [
            find_nats_server(),
            "-c",
            str(CONF),
            # The file's listen ports and store directory are the container's; a test's own here.
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            str(free_port()),
            "-sd",
            str(folder),
            "-l",
            str(folder / "nats.log"),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while "Server is ready" not in _log(folder):
        assert process.poll() is None, _log(folder)
        assert time.monotonic() < deadline, _log(folder)
        time.sleep(0.1)
    yield AuthNats(url=f"nats://127.0.0.1:{port}", passwords=passwords)
    process.terminate()
    process.wait(timeout=10)


def _log(folder: Path) -> str:
    path = folder / "nats.log"
    return path.read_text() if path.exists() else ""


async def test_a_wrong_password_is_refused(auth_nats: AuthNats) -> None:
    async def ignore(exc: Exception) -> None:
        pass

    with pytest.raises((NatsError, nats.errors.NoServersError)):
        await asyncio.wait_for(
            nats.connect(
                auth_nats.url,
                user="gateway",
                password="wrong",
                allow_reconnect=False,
                error_cb=ignore,
            ),
            10,
        )


async def test_each_service_does_its_work_under_its_own_user(
    auth_nats: AuthNats, chdb_path: str
) -> None:
    query = await bus.connect(auth_nats.settings("query"), name="query")
    billing = await bus.connect(auth_nats.settings("billing"), name="billing")
    try:
        # The query service owns the registry: put, list (stream state), read, delete.
        sites = await bus.ensure_sites_bucket(query.jetstream(), auth_nats.settings("query"))
        site = await create_site(sites, "example.com")
        stray = await create_site(sites, "stray.example")
        assert {site.site_id, stray.site_id} <= await bus.kv_keys(sites)
        await delete_site(sites, stray.site_id)
        assert await get_site(sites, stray.site_id) is None
        live: asyncio.Queue[bytes] = asyncio.Queue()

        async def on_live(message: nats.aio.msg.Msg) -> None:
            await live.put(message.data)

        await query.subscribe(bus.live_subject("", site.site_id), cb=on_live)
        # A live stream's opening round trip: refused, it would time out and end the stream.
        await bus.round_trip(query, timeout=5)

        # Billing keeps the quota flags.
        quotas = await bus.ensure_quotas_bucket(billing.jetstream(), auth_nats.settings("billing"))
        flag = bus.QuotaFlag(over_quota=False, until=time.time() + 3600)
        await quotas.put(site.site_id, bus.QUOTA_ENCODER.encode(flag))
        assert site.site_id in await bus.kv_keys(quotas)

        # The gateway takes a beacon (stream, both watches, the rate-limit subject) ...
        gateway = create_app(GatewaySettings(metrics_port=0), auth_nats.settings("gateway"))
        async with AsyncTestClient(gateway) as client:
            registry = client.app.state.gateway.registry
            deadline = time.monotonic() + 10
            while site.site_id not in registry:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            body = {
                "siteId": site.site_id,
                "events": [{"type": "pageview", "url": "https://example.com/permitted"}],
            }
            response = await client.post("/collect", content=json.dumps(body))
            assert response.status_code == 204, response.text
            assert client.app.state.gateway.rate_sync.rounds_published >= 0

            # ... and the consumer stores it (salts, sessions, dead letters) and publishes it live.
            warehouse = fresh_chdb_settings(chdb_path)
            async with running_consumer(
                ConsumerSettings(metrics_port=0), auth_nats.settings("consumer"), warehouse
            ):
                data = await asyncio.wait_for(live.get(), 30)
        [event] = LIVE_DECODER.decode(data).events
        assert event.pathname == "/permitted"
    finally:
        await query.close()
        await billing.close()


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("gateway", "traytic.live.st_x"),  # only the consumer speaks for the warehouse
        ("gateway", "$KV.sites.st_x"),  # the gateway reads the registry, never writes it
        ("gateway", "$KV.quotas.st_x"),
        ("query", "traytic.events.ingest"),  # beacons enter through the gateway only
        ("billing", "$KV.sites.st_x"),
        ("consumer", "$KV.quotas.st_x"),
    ],
)
async def test_a_service_cannot_publish_what_is_not_its_own(
    auth_nats: AuthNats, user: str, subject: str
) -> None:
    errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def on_error(exc: Exception) -> None:
        await errors.put(exc)

    client = await nats.connect(
        auth_nats.url,
        user=user,
        password=auth_nats.passwords[user],
        error_cb=on_error,
        inbox_prefix=f"_INBOX.{user}",
    )
    try:
        await client.publish(subject, b"{}")
        await client.flush()
        error = await asyncio.wait_for(errors.get(), 5)
        assert "permissions violation" in str(error).lower()
    finally:
        await client.close()


async def test_a_service_cannot_read_another_services_replies(auth_nats: AuthNats) -> None:
    errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def on_error(exc: Exception) -> None:
        await errors.put(exc)

    client = await nats.connect(
        auth_nats.url,
        user="gateway",
        password=auth_nats.passwords["gateway"],
        error_cb=on_error,
        inbox_prefix="_INBOX.gateway",
    )
    try:
        await client.subscribe("_INBOX.query.>")
        await client.flush()
        error = await asyncio.wait_for(errors.get(), 5)
        assert "permissions violation" in str(error).lower()
    finally:
        await client.close()
