"""The account mails' outbox on both dialects: a claim takes due mails whose link still works,
a dead sender's claim is taken over once its lease ends and its late answer is not recorded,
a sent or given-up mail keeps no content, and the purge drops expired mails and, a day later,
finished ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from traytic.db import Database
from traytic.db.models import OutboxMail
from traytic.db.repositories import mail_outbox

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def mail(kind: str, *, expires_in: timedelta, created: datetime = NOW) -> OutboxMail:
    return OutboxMail(
        kind=kind,
        message="sk1.sealed",
        next_attempt_at=created,
        created_at=created,
        expires_at=created + expires_in,
    )


async def test_claims_take_over_dead_senders_and_finished_mails_keep_no_content(
    db: Database,
) -> None:
    async with db.session() as session:
        await mail_outbox.add_mail(session, mail("signup_link", expires_in=timedelta(days=1)))
        await mail_outbox.add_mail(session, mail("invitation", expires_in=timedelta(days=1)))
        await mail_outbox.add_mail(session, mail("signup_link", expires_in=timedelta(0)))
    async with db.session() as session:
        claimed = await mail_outbox.claim_mails(
            session, owner="dead", now=NOW, lease=LEASE, limit=10
        )
        assert sorted(m.kind for m in claimed) == ["invitation", "signup_link"]  # not expired
        assert all(m.attempts == 1 and m.status == "sending" for m in claimed)
    async with db.session() as session:  # claimed and alive: nobody else takes them
        assert not await mail_outbox.claim_mails(
            session, owner="other", now=NOW + LEASE / 2, lease=LEASE, limit=10
        )
    later = NOW + LEASE + timedelta(seconds=1)
    async with db.session() as session:
        again = await mail_outbox.claim_mails(
            session, owner="alive", now=later, lease=LEASE, limit=10
        )
        assert {m.id for m in again} == {m.id for m in claimed}
        assert all(m.attempts == 2 for m in again)
    sent, refused = sorted(claimed, key=lambda m: m.kind)
    async with db.session() as session:  # the dead one's late answer is not taken
        assert not await mail_outbox.mark_mail_sent(session, sent.id, "dead", later)
        assert await mail_outbox.mark_mail_sent(session, sent.id, "alive", later)
        assert await mail_outbox.mark_mail_failed_attempt(
            session,
            refused.id,
            "alive",
            error="the server refused the address (550)",
            retry_at=None,
        )
    async with db.session() as session:
        rows = {m.id: m for m in (await session.exec(select(OutboxMail))).all()}
    assert (rows[sent.id].status, rows[sent.id].message, rows[sent.id].sent_at) == (
        "sent",
        "",
        later,
    )
    assert (rows[refused.id].status, rows[refused.id].message) == ("failed", "")
    assert rows[refused.id].last_error == "the server refused the address (550)"


async def test_a_failed_try_comes_back_when_due_and_the_purge_drops_what_is_done(
    db: Database,
) -> None:
    async with db.session() as session:
        await mail_outbox.add_mail(
            session, fresh := mail("signup_link", expires_in=timedelta(hours=1))
        )
        await mail_outbox.add_mail(session, mail("invitation", expires_in=timedelta(minutes=5)))
        old = mail("signup_existing", expires_in=timedelta(days=1), created=NOW - timedelta(days=2))
        await mail_outbox.add_mail(session, old)
    async with db.session() as session:
        (claimed,) = await mail_outbox.claim_mails(
            session, owner="a", now=NOW - timedelta(days=2), lease=LEASE, limit=10
        )
        assert await mail_outbox.mark_mail_sent(session, claimed.id, "a", NOW - timedelta(days=2))
    async with db.session() as session:
        due = await mail_outbox.claim_mails(session, owner="b", now=NOW, lease=LEASE, limit=1)
        assert await mail_outbox.mark_mail_failed_attempt(
            session, due[0].id, "b", error="timeout", retry_at=NOW + timedelta(minutes=1)
        )
    async with db.session() as session:  # not due yet, then due
        rest = await mail_outbox.claim_mails(session, owner="c", now=NOW, lease=LEASE, limit=10)
        assert due[0].id not in {m.id for m in rest}
        for row in rest:
            await mail_outbox.mark_mail_failed_attempt(
                session, row.id, "c", error="timeout", retry_at=NOW + timedelta(minutes=1)
            )
    # Ten minutes on: the invitation's link (5 minutes) expired unsent; the sign-up link (an
    # hour) waits on; the mail sent two days ago is forgotten.
    async with db.session() as session:
        expired, finished = await mail_outbox.purge_mails(session, NOW + timedelta(minutes=10))
    assert (expired, finished) == (["invitation"], 1)
    async with db.session() as session:
        (left,) = (await session.exec(select(OutboxMail))).all()
        assert left.id == fresh.id and left.status == "pending"
        (back,) = await mail_outbox.claim_mails(
            session, owner="d", now=NOW + timedelta(minutes=10), lease=LEASE, limit=10
        )
        assert back.id == fresh.id
