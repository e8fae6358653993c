"""`traytic alert ...` and `traytic report ...`: alerts, reports and their deliveries from a
shell, against the same database (and through the same validating repositories) as the API."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.cli.sites import live_site, migrated_database
from traytic.core.errors import InvalidInput
from traytic.db.models import Recipient
from traytic.db.repositories import alerts, deliveries, recipients, reports
from traytic.db.repositories.alerts import AlertSpec
from traytic.db.repositories.recipients import RecipientSpec
from traytic.db.repositories.reports import ReportSpec


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alert = commands.add_parser("alert", help="traffic and goal alerts (spike, drop, goal)")
    alert_commands = alert.add_subparsers(dest="alert_command", required=True, metavar="ACTION")
    create = alert_commands.add_parser("create", help="create an alert and print its id")
    create.add_argument("--kind", required=True, choices=["spike", "drop", "goal"])
    create.add_argument(
        "--threshold",
        required=True,
        type=float,
        help="spike: visitors at once; drop: a share of the usual level, e.g. 0.5;"
        " goal: conversions in the window",
    )
    create.add_argument("--cooldown-minutes", type=int, default=60)
    create.add_argument("--goal", help="goal: the goal id whose conversions are counted")
    create.add_argument(
        "--window-minutes", type=int, default=60, help="goal: minutes counted (5 to 10080)"
    )
    create.add_argument(
        "--below", action="store_true", help="goal: fire below the threshold, not at it"
    )
    _common(create)
    _lists(alert_commands)

    report = commands.add_parser("report", help="weekly and monthly email/Slack/webhook reports")
    report_commands = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    create = report_commands.add_parser("create", help="create a report and print its id")
    create.add_argument("--frequency", default="weekly", choices=["weekly", "monthly"])
    create.add_argument("--hour", type=int, default=8, help="local hour of sending (0-23)")
    create.add_argument("--tz", help="recipients' time zone (default: the site's)")
    _common(create)
    _lists(report_commands)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help="the site id (st_...)")
    parser.add_argument("--name", default="")
    for channel in ("email", "slack", "webhook"):
        parser.add_argument(
            f"--{channel}", action="append", default=[], help=f"a {channel} recipient (repeat)"
        )


def _lists(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = actions.add_parser("list", help="list a site's, with their recipients")
    listing.add_argument("--site", required=True)
    remove = actions.add_parser("delete", help="delete one")
    remove.add_argument("--site", required=True)
    remove.add_argument("id")
    sent = actions.add_parser("deliveries", help="what was sent, is waiting, or failed")
    sent.add_argument("--site", required=True)
    sent.add_argument("--status", choices=["pending", "sending", "sent", "failed", "cancelled"])


def _wanted(args: argparse.Namespace) -> list[RecipientSpec]:
    zone = getattr(args, "tz", None)
    return [
        RecipientSpec(channel, target, zone)
        for channel in ("email", "slack", "webhook")
        for target in getattr(args, channel)
    ]


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an id", field="id") from exc


def _show(recipient: Recipient) -> str:
    line = f"    {recipient.channel:8} {recipient.target}"
    if recipient.unsubscribed_at is not None:
        line += "  (unsubscribed)"
    if recipient.channel == "webhook":
        line += f"  secret={recipient.secret}"
    return line


def _print(header: str, listed: Sequence[Recipient]) -> None:
    print(header)
    for recipient in listed:
        print(_show(recipient))


async def run_alert_command(args: argparse.Namespace) -> int:
    return await _run(args, args.alert_command, alert=True)


async def run_report_command(args: argparse.Namespace) -> int:
    return await _run(args, args.report_command, alert=False)


async def _run(args: argparse.Namespace, action: str, *, alert: bool) -> int:
    db = await migrated_database()
    try:
        async with db.session() as session:
            site = await live_site(session, args.site)
            if action == "create":
                wanted = recipients.check_recipients(_wanted(args), site.time_zone)
                if alert:
                    spec = AlertSpec(
                        name=args.name,
                        kind=args.kind,
                        threshold=args.threshold,
                        cooldown_s=args.cooldown_minutes * 60,
                        goal_id=_id(args.goal) if args.goal else None,
                        below=args.below,
                        window_s=args.window_minutes * 60,
                    )
                    made = await alerts.create_alert(session, site.id, spec, created_by_id=None)
                    rows = await recipients.set_recipients(session, wanted, alert_id=made.id)
                else:
                    report_spec = ReportSpec(
                        name=args.name, frequency=args.frequency, send_hour=args.hour
                    )
                    made_report = await reports.create_report(
                        session, site.id, report_spec, created_by_id=None
                    )
                    rows = await recipients.set_recipients(
                        session, wanted, report_id=made_report.id
                    )
                print(made.id if alert else made_report.id)
                for row in rows:
                    if row.channel == "webhook":
                        print(f"webhook {row.target} secret={row.secret}")
            elif action == "list":
                await _list(session, site.id, alert=alert)
            elif action == "delete":
                if alert:
                    await alerts.delete_alert(
                        session, await alerts.get_alert(session, site.id, _id(args.id))
                    )
                else:
                    await reports.delete_report(
                        session, await reports.get_report(session, site.id, _id(args.id))
                    )
            else:
                listed = await deliveries.list_deliveries(session, site.id, status=args.status)
                for sent in listed:
                    if (sent.alert_id is not None) != alert:
                        continue
                    error = f"  {sent.last_error}" if sent.last_error else ""
                    print(
                        f"{sent.created_at:%Y-%m-%d %H:%M} {sent.status:9} {sent.channel:7} "
                        f"{sent.subject}  attempts={sent.attempts}{error}"
                    )
    finally:
        await db.dispose()
    return 0


async def _list(session: AsyncSession, site_id: str, *, alert: bool) -> None:
    if alert:
        for row in await alerts.list_alerts(session, site_id):
            state = "firing" if row.firing else "quiet"
            rule = {
                "spike": f"> {row.threshold:g}",
                "drop": f"< {row.threshold:.0%}",
                "goal": f"{'<' if row.below else '>='} {row.threshold:g}"
                f" in {row.window_s // 60} min of goal {row.goal_id}",
            }.get(row.kind, "")
            _print(
                f"{row.id}  {row.kind} {rule}  {row.name}  ({state})",
                await recipients.list_recipients(session, alert_id=row.id),
            )
    else:
        for report in await reports.list_reports(session, site_id):
            _print(
                f"{report.id}  {report.frequency} at {report.send_hour:02d}:00  {report.name}",
                await recipients.list_recipients(session, report_id=report.id),
            )
