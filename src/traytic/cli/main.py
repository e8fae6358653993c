"""`traytic`: one command for every service, the embedded dev mode, migrations, sites, keys,
alerts and reports, goals and funnels."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from traytic.core.errors import TrayticError


def _timestamp(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="traytic",
        description="Privacy-first web analytics. Settings come from TRAYTIC_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "dev", help="run the whole product in one process (embedded NATS, chDB, SQLite)"
    )
    commands.add_parser("gateway", help="run the ingest gateway (POST /collect) under Granian")
    commands.add_parser("consumer", help="run the consumer: JetStream batches into ClickHouse")
    commands.add_parser("query", help="run the query service (stats, accounts, sites, keys)")
    commands.add_parser("billing", help="run the billing service (webhooks, worker, checkout)")
    commands.add_parser(
        "migrate",
        help="create or upgrade the schemas: the warehouse's ClickHouse tables and the"
        " database's (Alembic), then exit",
        description="Apply every pending migration, then exit: the warehouse's (ClickHouse"
        " tables, views and rollups, at TRAYTIC_CLICKHOUSE_URL, or chDB at TRAYTIC_CHDB_PATH) and"
        " the database's (Alembic revisions of accounts, sites, keys and billing, at"
        " TRAYTIC_DATABASE_URL). Safe to run again: what is applied is skipped. Run it before"
        " starting the services of a new version.",
    )
    demo = commands.add_parser(
        "demo",
        help="fill the running `traytic dev`'s demo site with sample traffic",
        description="Send a month of believable traffic (daily and weekly rhythm, a launch"
        " spike, sources and campaigns, countries and cities, devices, custom events, Web Vitals"
        " and errors) through the gateway's /collect into the running `traytic dev` (make dev),"
        " for its demo site. Timestamps are backdated by an in-process gateway: the public"
        " /collect cannot do that. Running it again adds more.",
    )
    demo.add_argument(
        "--events", type=int, default=50_000, help="about how many events (default 50000)"
    )
    demo.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    demo.add_argument("--seed", type=int, help="the same seed (and --end) gives the same traffic")
    demo.add_argument(
        "--end",
        type=_timestamp,
        help="the last moment of the sample, ISO 8601 (default now); with --seed, for tests",
    )
    commands.add_parser("settings", help="list every TRAYTIC_* setting with its default")

    site = commands.add_parser("site", help="manage sites (database, mirrored to the gateway)")
    site_commands = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    create = site_commands.add_parser("create", help="create a site and print its id")
    create.add_argument("--domain", required=True, help="the site's domain, e.g. example.com")
    create.add_argument("--org", help="organisation slug (default: the only organisation)")
    create.add_argument("--name", help="a display name (default: the domain)")
    create.add_argument(
        "--allowed-hostname",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept pages on HOST (repeat; *.example.com for every subdomain)",
    )
    create.add_argument(
        "--allow-localhost", action="store_true", help="accept pages on localhost (development)"
    )
    create.add_argument(
        "--keep-datacenter",
        action="store_true",
        help="keep beacons from hosting networks (dropped by default)",
    )
    site_commands.add_parser("list", help="list the sites the gateway accepts, with their rules")

    key = commands.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser("create", help="create an API key; printed once")
    key_create.add_argument("--org", help="organisation slug (default: the only organisation)")
    key_create.add_argument("--name", default="cli", help="a label for the key")

    from traytic.cli.alerts import add_commands
    from traytic.cli.goals import add_commands as add_goal_commands
    from traytic.cli.imports import add_command as add_import
    from traytic.cli.mcp import add_command as add_mcp

    add_commands(commands)
    add_goal_commands(commands)
    add_mcp(commands)
    add_import(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "dev":
            from traytic.cli.dev import run_dev

            return run_dev()
        if args.command == "gateway":
            from traytic.cli.serve import serve_gateway

            return serve_gateway()
        if args.command == "query":
            from traytic.cli.serve import serve_query

            return serve_query()
        if args.command == "billing":
            from traytic.cli.serve import serve_billing

            return serve_billing()
        if args.command == "consumer":
            from traytic.cli.serve import run_consumer

            return run_consumer()
        if args.command == "demo":
            from traytic.cli.demo.command import run_demo

            return run_demo(events=args.events, days=args.days, seed=args.seed, end=args.end)
        if args.command == "migrate":
            from traytic.cli.serve import run_migrate

            return asyncio.run(run_migrate())
        if args.command == "settings":
            from traytic.cli.serve import print_settings

            return print_settings()
        if args.command == "site":
            from traytic.cli.sites import run_site_command

            return asyncio.run(run_site_command(args))
        if args.command == "key":
            from traytic.cli.sites import run_key_command

            return asyncio.run(run_key_command(args))
        if args.command == "mcp":
            from traytic.cli.mcp import run_mcp

            return run_mcp(args)
        if args.command in ("goal", "funnel"):
            from traytic.cli.goals import run_goal_command

            return asyncio.run(run_goal_command(args))
        if args.command == "import":
            from traytic.cli.imports import run_import_command

            return asyncio.run(run_import_command(args))
        if args.command in ("alert", "report"):
            from traytic.cli.alerts import run_alert_command, run_report_command

            run = run_alert_command if args.command == "alert" else run_report_command
            return asyncio.run(run(args))
    except TrayticError as error:
        print(f"traytic: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
