"""`/unsubscribe/{token}`: the link in every alert and report email, working without signing in.

The token names one recipient of one report or alert and is signed with that recipient's key
(`traytic.db.tokens`). Opening the link shows a page with a button, because mail scanners open
links by themselves; the button, and the one-click `POST` mail clients send from
`List-Unsubscribe-Post` (RFC 8058), unsubscribe. A token that does not verify gets the same 404
page whether or not the recipient exists.
"""

from __future__ import annotations

import html

import structlog
from litestar import MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.db.models import Alert, Recipient, Report, Site, utcnow
from traytic.db.repositories import recipients
from traytic.db.tokens import unsubscribe_recipient_id, unsubscribe_token_valid

log = structlog.get_logger()

_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · Traytic</title><style>body{{font-family:system-ui,sans-serif;"
    "max-width:32rem;margin:4rem auto;padding:0 1rem;color:#16161a}}button{{font:inherit;"
    "padding:.5rem 1rem;border-radius:6px;border:0;background:#4f46e5;color:#fff;"
    "cursor:pointer}}</style></head><body><h1>{title}</h1>{body}</body></html>"
)


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    return Response(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _recipient(session: AsyncSession, token: str) -> tuple[Recipient, str] | None:
    """The recipient the token names, if it verifies, with what they are subscribed to."""
    recipient_id = unsubscribe_recipient_id(token)
    recipient = await session.get(Recipient, recipient_id) if recipient_id else None
    if recipient is None or not unsubscribe_token_valid(token, recipient):
        return None
    owner: Alert | Report | None
    if recipient.report_id is not None:
        owner = await session.get(Report, recipient.report_id)
    else:
        owner = await session.get(Alert, recipient.alert_id)
    site = await session.get(Site, owner.site_id) if owner is not None else None
    what = f"{owner.name} for {site.name or site.domain}" if owner and site else "these messages"
    return recipient, what


def _not_valid() -> Response[str]:
    return _page(
        "This link does not work",
        "<p>It may have been cut short by your mail program, or the report was deleted.</p>",
        404,
    )


@get("/unsubscribe/{token:str}", include_in_schema=False)
async def unsubscribe_page(
    token: FromPath[str], db_session: NamedDependency[AsyncSession]
) -> Response[str]:
    found = await _recipient(db_session, token)
    if found is None:
        return _not_valid()
    recipient, what = found
    if recipient.unsubscribed_at is not None:
        return _page("You are unsubscribed", f"<p>{html.escape(what)} no longer goes to you.</p>")
    return _page(
        "Unsubscribe?",
        f"<p>Stop sending <b>{html.escape(what)}</b> to {html.escape(recipient.target)}?</p>"
        '<form method="post"><button type="submit">Unsubscribe</button></form>',
    )


@post("/unsubscribe/{token:str}", include_in_schema=False, status_code=200)
async def unsubscribe(
    token: FromPath[str], db_session: NamedDependency[AsyncSession]
) -> Response[str]:
    """The page's button and mail clients' one-click unsubscribe (RFC 8058)."""
    found = await _recipient(db_session, token)
    if found is None:
        return _not_valid()
    recipient, what = found
    await recipients.unsubscribe(db_session, recipient.id, utcnow())
    log.info("recipient_unsubscribed", recipient_id=str(recipient.id))
    return _page("You are unsubscribed", f"<p>{html.escape(what)} no longer goes to you.</p>")
