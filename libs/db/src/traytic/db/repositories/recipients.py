"""Who an alert or a report goes to: email addresses, Slack incoming webhooks, signed webhooks.

`set_recipients` replaces the list and keeps what stays: a recipient that remains keeps its
signing secret, its schedule and whether it unsubscribed, so saving a form does not
resubscribe anyone: an unsubscribed address comes back only if an admin removes it and adds it
again (a new recipient).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.core.errors import InvalidInput
from traytic.db.errors import NotFound
from traytic.db.models import Channel, Recipient
from traytic.db.validation import check_choice, check_text, check_time_zone, normalise_email

MAX_RECIPIENTS = 50


@dataclass(frozen=True, slots=True)
class RecipientSpec:
    """A wanted recipient, as the API and the CLI give it."""

    channel: str
    target: str
    time_zone: str | None = None
    """Reports: the zone the recipient's weeks and months start in (default: the site's)."""


def check_url(value: object, field: str) -> str:
    """An absolute http(s) URL without credentials, as Slack and webhook receivers have."""
    url = check_text(field, value, max_length=512)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{field} must be an http or https URL", field=field)
    if parts.username or parts.password or any(c.isspace() for c in url):
        raise InvalidInput(f"{field} must not hold credentials or spaces", field=field)
    return url


def check_recipients(specs: object, default_zone: str) -> list[RecipientSpec]:
    """Validated, deduplicated recipients; each bad one names its place in the list."""
    if not isinstance(specs, list | tuple):
        raise InvalidInput("recipients must be a list", field="recipients")
    if len(specs) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} recipients", field="recipients")
    checked: list[RecipientSpec] = []
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        if not isinstance(spec, RecipientSpec):
            raise InvalidInput("each recipient needs a channel and a target", field="recipients")
        where = f"recipients[{index}]"
        channel = check_choice(f"{where}.channel", spec.channel, [c.value for c in Channel])
        if channel == Channel.EMAIL.value:
            target = normalise_email(spec.target, f"{where}.target")
        else:
            target = check_url(spec.target, f"{where}.target")
        zone = check_time_zone(spec.time_zone or default_zone, f"{where}.time_zone")
        if (channel, target) in seen:
            continue
        seen.add((channel, target))
        checked.append(RecipientSpec(channel, target, zone))
    return checked


async def list_recipients(
    session: AsyncSession,
    *,
    alert_id: uuid.UUID | None = None,
    report_id: uuid.UUID | None = None,
) -> Sequence[Recipient]:
    if alert_id is not None:
        where = col(Recipient.alert_id) == alert_id
    else:
        where = col(Recipient.report_id) == report_id
    statement = (
        select(Recipient).where(where).order_by(col(Recipient.created_at), col(Recipient.id))
    )
    return (await session.exec(statement)).all()


async def set_recipients(
    session: AsyncSession,
    specs: Sequence[RecipientSpec],
    *,
    alert_id: uuid.UUID | None = None,
    report_id: uuid.UUID | None = None,
) -> list[Recipient]:
    """Make the owner's recipients exactly `specs` (already checked), keeping the state of
    those that stay; a recipient whose time zone changed is scheduled afresh."""
    current = {
        (row.channel, row.target): row
        for row in await list_recipients(session, alert_id=alert_id, report_id=report_id)
    }
    kept: list[Recipient] = []
    for spec in specs:
        zone = spec.time_zone or "UTC"
        row = current.pop((spec.channel, spec.target), None)
        if row is None:
            row = Recipient(
                alert_id=alert_id,
                report_id=report_id,
                channel=spec.channel,
                target=spec.target,
                time_zone=zone,
            )
            session.add(row)
        elif row.time_zone != zone:
            row.time_zone = zone
            row.next_run_at = None
        kept.append(row)
    for gone in current.values():
        await session.delete(gone)
    await session.flush()
    return kept


async def unsubscribe(session: AsyncSession, recipient_id: uuid.UUID, now: datetime) -> Recipient:
    row = await session.get(Recipient, recipient_id, with_for_update=True)
    if row is None:
        raise NotFound("no such subscription", field="token")
    if row.unsubscribed_at is None:
        row.unsubscribed_at = now
        await session.flush()
    return row
