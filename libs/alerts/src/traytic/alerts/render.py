"""Messages, rendered once per delivery and stored as they will be sent (the outbox's body).

Each channel gets its own form of the same content: email (plain text, HTML and the chart as
an inline PNG), Slack (Block Kit), webhook (JSON whose numbers are the stats API's own
answers, encoded by the same Structs). Everything a visitor could have typed (page paths,
referrers) is escaped for the medium it lands in.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec

from traytic.alerts.chart import bar_chart
from traytic.alerts.figures import ReportFigures
from traytic.alerts.formats import change, duration, integer, money, percent, period_label
from traytic.warehouse.stats.results import GoalConversions, Row

JSON = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: str
    domain: str
    name: str

    @property
    def label(self) -> str:
        return self.name or self.domain


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    """JSON: `{"text", "html", "chart"}` for email, `{"text", "blocks"}` for Slack, the payload
    itself for a webhook."""


@dataclass(frozen=True, slots=True)
class ReportContext:
    site: SiteInfo
    name: str
    frequency: str
    figures: ReportFigures
    dashboard_url: str
    late: bool
    due_at: datetime
    skipped: int


@dataclass(frozen=True, slots=True)
class AlertContext:
    site: SiteInfo
    alert_id: str
    name: str
    kind: str
    threshold: float
    value: float
    usual: float | None
    fired_at: datetime
    tz: str
    dashboard_url: str
    goal: tuple[str, str] | None = None
    """Goal alerts: the goal's id and name."""
    below: bool = False
    window_s: int = 0


def dashboard_url(public_url: str, site_id: str, **query: str) -> str:
    base = f"{public_url.rstrip('/')}/sites/{site_id}"
    return f"{base}?{urlencode(query)}" if query else base


# ---- reports


def _kpis(figures: ReportFigures) -> list[tuple[str, str, str]]:
    o = figures.overview
    return [
        ("Visitors", integer(o.visitors.value), change(o.visitors.value, o.visitors.previous)),
        ("Visits", integer(o.visits.value), change(o.visits.value, o.visits.previous)),
        ("Pageviews", integer(o.pageviews.value), change(o.pageviews.value, o.pageviews.previous)),
        (
            "Bounce rate",
            percent(o.bounce_rate.value),
            change(o.bounce_rate.value, o.bounce_rate.previous),
        ),
        (
            "Visit duration",
            duration(o.visit_duration.value),
            change(o.visit_duration.value, o.visit_duration.previous),
        ),
    ]


def _lists(figures: ReportFigures) -> list[tuple[str, list[Row]]]:
    return [
        ("Top pages", figures.pages),
        ("Top sources", [_named(row, "Direct") for row in figures.sources]),
        ("Top countries", [_named(row, "Unknown") for row in figures.countries]),
    ]


def _goal_lines(figures: ReportFigures) -> list[str]:
    """One line per goal: conversions, the change, the rate and (revenue goals) revenue."""
    if figures.goals is None:
        return []
    currency = figures.goals.money.currency
    lines = []
    for goal in figures.goals.goals:
        line = _goal_cells(goal, currency)
        lines.append(f"  {goal.name}  " + " · ".join(line))
    if figures.goals.money.unconverted:
        codes = ", ".join(figures.goals.money.unconverted)
        lines.append(f"  (revenue in {codes} has no exchange rate here and counts 0)")
    return lines


def _goal_cells(goal: GoalConversions, currency: str) -> list[str]:
    unique = goal.unique_conversions
    cells = [
        f"{integer(unique.value)} converted ({change(unique.value, unique.previous)})",
        f"{percent(goal.conversion_rate.value)} of visitors",
    ]
    if goal.revenue is not None:
        cells.append(money(goal.revenue.value, currency))
    return cells


def _named(row: Row, empty: str) -> Row:
    """The stats API's empty value, as the dashboard names it (no referrer: Direct)."""
    return row if row.value else msgspec.structs.replace(row, value=empty)


def _row_label(row: Row) -> str:
    return row.value or "(none)"


def _late_note(context: ReportContext) -> str:
    if not context.late:
        return ""
    zone = ZoneInfo(context.figures.tz)
    due = context.due_at.astimezone(zone).strftime("%A %d %B %Y, %H:%M")
    note = f"This report was due {due} ({context.figures.tz}) and is sent late, after downtime."
    if context.skipped:
        earlier = "report was" if context.skipped == 1 else "reports were"
        note += f" {context.skipped} earlier {earlier} skipped rather than sent all at once."
    return note


def report_subject(context: ReportContext) -> str:
    o = context.figures.overview
    subject = (
        f"{context.frequency.capitalize()} report for {context.site.label}: "
        f"{integer(o.visitors.value)} visitors ({change(o.visitors.value, o.visitors.previous)})"
    )
    return f"{subject} [late]" if context.late else subject


def report_email(context: ReportContext, unsubscribe_url: str) -> Rendered:
    figures = context.figures
    when = period_label(figures.period.first, figures.period.last)
    note = _late_note(context)
    lines = [f"{context.name} for {context.site.label}", f"{when} ({figures.tz})", ""]
    if note:
        lines += [note, ""]
    lines += [
        f"{label}: {value} ({delta} on the period before)" for label, value, delta in _kpis(figures)
    ]
    for title, rows in _lists(figures):
        lines += ["", f"{title}:"]
        lines += [f"  {_row_label(row)}  {integer(row.visitors)}" for row in rows] or ["  none"]
    if goal_lines := _goal_lines(figures):
        lines += ["", "Goals:", *goal_lines]
    lines += [
        "",
        f"Open the dashboard: {context.dashboard_url}",
        "",
        f"Unsubscribe from this report: {unsubscribe_url}",
    ]
    days = figures.timeseries.buckets
    chart = bar_chart(
        [bucket.visitors for bucket in days],
        [_short_day(days[0].start.date()), _short_day(days[-1].start.date())] if days else [],
    )
    body = {
        "text": "\n".join(lines) + "\n",
        "html": _report_html(context, when, note, unsubscribe_url),
        "chart": base64.b64encode(chart).decode(),
        "unsubscribe": unsubscribe_url,
    }
    return Rendered(report_subject(context), JSON.encode(body).decode())


def _short_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


_CELL = 'style="padding:6px 8px;border-bottom:1px solid #ececf0;text-align:{align}"'


def _report_html(context: ReportContext, when: str, note: str, unsubscribe_url: str) -> str:
    e = html.escape
    figures = context.figures
    kpis = "".join(
        f'<td style="padding:8px 12px 8px 0;vertical-align:top">'
        f'<div style="color:#6b6b76;font-size:12px">{e(label)}</div>'
        f'<div style="font-size:20px;font-weight:600">{e(value)}</div>'
        f'<div style="color:#6b6b76;font-size:12px">{e(delta)}</div></td>'
        for label, value, delta in _kpis(figures)
    )
    tables = ""
    for title, rows in _lists(figures):
        body = (
            "".join(
                f"<tr><td {_CELL.format(align='left')}>{e(_row_label(row))}</td>"
                f"<td {_CELL.format(align='right')}>{e(integer(row.visitors))}</td></tr>"
                for row in rows
            )
            or f'<tr><td {_CELL.format(align="left")} colspan="2">none</td></tr>'
        )
        tables += (
            f'<h2 style="font-size:15px;margin:24px 0 4px">{e(title)}</h2>'
            f'<table role="presentation" width="100%" cellspacing="0" '
            f'style="border-collapse:collapse;font-size:14px">'
            f"<tr><th {_CELL.format(align='left')}></th>"
            f"<th {_CELL.format(align='right')}>Visitors</th></tr>{body}</table>"
        )
    tables += _goals_html(figures)
    late = (
        f'<p style="background:#fff4e0;padding:8px 12px;border-radius:6px">{e(note)}</p>'
        if note
        else ""
    )
    return (
        '<!doctype html><html><body style="margin:0;background:#f7f7f8">'
        '<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;'
        'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#16161a">'
        f'<h1 style="font-size:20px;margin:0">{e(context.name)} for {e(context.site.label)}</h1>'
        f'<p style="color:#6b6b76;margin:4px 0 16px">{e(when)} ({e(figures.tz)})</p>{late}'
        f'<table role="presentation" cellspacing="0"><tr>{kpis}</tr></table>'
        '<p style="color:#6b6b76;font-size:12px;margin:4px 0">Changes compare with the period '
        "of the same length just before.</p>"
        '<img src="cid:chart" width="600" height="160" alt="Visitors per day" '
        'style="display:block;width:100%;max-width:600px;height:auto;margin:16px 0">'
        f"{tables}"
        f'<p style="margin:24px 0"><a href="{e(context.dashboard_url)}" '
        'style="background:#4f46e5;color:#ffffff;padding:10px 16px;border-radius:6px;'
        'text-decoration:none">Open the dashboard</a></p>'
        '<p style="color:#6b6b76;font-size:12px">Sent by Traytic. '
        f'<a href="{e(unsubscribe_url)}" style="color:#6b6b76">Unsubscribe</a> '
        "from this report.</p></div></body></html>"
    )


def _goals_html(figures: ReportFigures) -> str:
    if figures.goals is None or not figures.goals.goals:
        return ""
    e = html.escape
    currency = figures.goals.money.currency
    body = "".join(
        f"<tr><td {_CELL.format(align='left')}>{e(goal.name)}</td>"
        + "".join(
            f"<td {_CELL.format(align='right')}>{e(cell)}</td>"
            for cell in _goal_cells(goal, currency)
        )
        + "</tr>"
        for goal in figures.goals.goals
    )
    return (
        '<h2 style="font-size:15px;margin:24px 0 4px">Goals</h2>'
        '<table role="presentation" width="100%" cellspacing="0" '
        f'style="border-collapse:collapse;font-size:14px">{body}</table>'
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_slack(context: ReportContext) -> Rendered:
    figures = context.figures
    when = period_label(figures.period.first, figures.period.last)
    subject = report_subject(context)
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{value} ({delta})"}
        for label, value, delta in _kpis(figures)
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _slack_escape(f"{when} ({figures.tz})")}],
        },
    ]
    if context.late:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _slack_escape(_late_note(context))},
            }
        )
    blocks.append({"type": "section", "fields": fields})
    for title, rows in _lists(figures):
        listed = "\n".join(
            f"{_slack_escape(_row_label(row))} · {integer(row.visitors)}" for row in rows
        )
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{title}*\n{listed or 'none'}"},
            }
        )
    if goal_lines := _goal_lines(figures):
        listed = _slack_escape("\n".join(line.strip() for line in goal_lines))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Goals*\n{listed}"}})
    blocks.append(_slack_button(context.dashboard_url))
    return Rendered(subject, JSON.encode({"text": subject, "blocks": blocks}).decode())


def _slack_button(url: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open the dashboard"},
                "url": url,
            }
        ],
    }


def report_webhook(context: ReportContext, key: str) -> Rendered:
    figures = context.figures
    payload = {
        "type": "report",
        "idempotencyKey": key,
        "site": {"id": context.site.id, "domain": context.site.domain, "name": context.site.name},
        "report": {
            "name": context.name,
            "frequency": context.frequency,
            "from": figures.period.first.isoformat(),
            "to": figures.period.last.isoformat(),
            "tz": figures.tz,
            "late": context.late,
            "dueAt": context.due_at.isoformat(),
            "overview": msgspec.to_builtins(figures.overview),
            "pages": msgspec.to_builtins(figures.pages),
            "sources": msgspec.to_builtins(figures.sources),
            "countries": msgspec.to_builtins(figures.countries),
            "goals": msgspec.to_builtins(figures.goals) if figures.goals is not None else None,
        },
        "url": context.dashboard_url,
    }
    return Rendered(report_subject(context), JSON.encode(payload).decode())


# ---- alerts


def _window(seconds: int) -> str:
    minutes = seconds // 60
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "24 hours" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"


def alert_subject(context: AlertContext) -> str:
    site = context.site.label
    if context.kind == "goal":
        name = context.goal[1] if context.goal else "a goal"
        return (
            f"Goal {name} on {site}: {integer(context.value)} conversions"
            f" in the last {_window(context.window_s)}"
        )
    if context.kind == "spike":
        return f"Traffic spike on {site}: {integer(context.value)} visitors now"
    usual = context.usual or 0.0
    share = context.value / usual if usual else 0.0
    return (
        f"Traffic drop on {site}: {integer(context.value)} visitors today, "
        f"{share:.0%} of a usual {context.fired_at.astimezone(ZoneInfo(context.tz)):%A}"
    )


def _alert_lines(context: AlertContext) -> list[str]:
    local = context.fired_at.astimezone(ZoneInfo(context.tz))
    when = f"{local:%A %d %B %Y, %H:%M} ({context.tz})"
    if context.kind == "goal":
        name = context.goal[1] if context.goal else "the goal"
        side = "below" if context.below else "at or above"
        return [
            f"{name} converted {integer(context.value)} times on {context.site.label} in the last "
            f"{_window(context.window_s)}: {side} your threshold of {integer(context.threshold)}.",
            f"Noticed {when}.",
        ]
    if context.kind == "spike":
        return [
            f"{integer(context.value)} people are on {context.site.label} right now "
            f"(the last five minutes), above your threshold of {integer(context.threshold)}.",
            f"Noticed {when}.",
        ]
    return [
        f"{integer(context.value)} visitors so far today (until {local:%H}:00), against "
        f"{integer(context.usual or 0)} on a usual {local:%A} by this hour: below your "
        f"threshold of {context.threshold:.0%}. If the tracker was removed, put it back.",
        f"Noticed {when}.",
    ]


def alert_email(context: AlertContext, unsubscribe_url: str) -> Rendered:
    e = html.escape
    lines = _alert_lines(context)
    text = "\n".join(
        [
            context.name,
            "",
            *lines,
            "",
            f"Open the dashboard: {context.dashboard_url}",
            "",
            f"Unsubscribe from this alert: {unsubscribe_url}",
        ]
    )
    paragraphs = "".join(f"<p>{e(line)}</p>" for line in lines)
    page = (
        '<!doctype html><html><body style="margin:0;background:#f7f7f8">'
        '<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;'
        'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#16161a">'
        f'<h1 style="font-size:20px;margin:0 0 12px">{e(alert_subject(context))}</h1>'
        f'<p style="color:#6b6b76">{e(context.name)}</p>{paragraphs}'
        f'<p style="margin:24px 0"><a href="{e(context.dashboard_url)}" '
        'style="background:#4f46e5;color:#ffffff;padding:10px 16px;border-radius:6px;'
        'text-decoration:none">Open the dashboard</a></p>'
        '<p style="color:#6b6b76;font-size:12px">Sent by Traytic. '
        f'<a href="{e(unsubscribe_url)}" style="color:#6b6b76">Unsubscribe</a> '
        "from this alert.</p></div></body></html>"
    )
    body = {"text": text + "\n", "html": page, "chart": None, "unsubscribe": unsubscribe_url}
    return Rendered(alert_subject(context), JSON.encode(body).decode())


def alert_slack(context: AlertContext) -> Rendered:
    subject = alert_subject(context)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _slack_escape("\n".join(_alert_lines(context)))},
        },
        _slack_button(context.dashboard_url),
    ]
    return Rendered(subject, JSON.encode({"text": subject, "blocks": blocks}).decode())


def alert_webhook(context: AlertContext, key: str) -> Rendered:
    payload = {
        "type": "alert",
        "idempotencyKey": key,
        "site": {"id": context.site.id, "domain": context.site.domain, "name": context.site.name},
        "alert": {
            "id": context.alert_id,
            "name": context.name,
            "kind": context.kind,
            "threshold": context.threshold,
            "value": context.value,
            "usual": context.usual,
            "firedAt": context.fired_at.isoformat(),
            **(
                {
                    "goal": {"id": context.goal[0], "name": context.goal[1]},
                    "below": context.below,
                    "windowMinutes": context.window_s // 60,
                }
                if context.goal is not None
                else {}
            ),
        },
        "url": context.dashboard_url,
    }
    return Rendered(alert_subject(context), JSON.encode(payload).decode())
