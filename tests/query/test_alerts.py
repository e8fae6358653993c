"""The alerts, reports and deliveries API, and the unsubscribe link, through the query app on
both databases: who may read and write, clear 400s for bad input (fuzzed), and a report sent by
the real scheduler whose numbers equal `GET /api/events/...` and whose links work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from sqlmodel import select

from tests.alerts.conftest import (  # noqa: F401 - fixtures, reused by name
    RunningClock,
    fast_settings,
    http_receiver,
    smtp,
)
from tests.alerts.receivers import Receiver, SmtpServer
from tests.fixtures.clickhouse import fresh_chdb_settings, fresh_warehouse
from tests.query.conftest import Account, Api
from tests.warehouse.stats.dataset import make_dataset, store
from traytic.alerts import running_scheduler
from traytic.db import Database, DbSettings
from traytic.db.models import Recipient
from traytic.warehouse import Warehouse


def _sites(account: Account, site: dict[str, Any]) -> str:
    return f"/api/orgs/{account.org_id}/sites/{site['id']}"


REPORT = {
    "frequency": "weekly",
    "sendHour": 8,
    "recipients": [
        {"channel": "email", "target": "Ann@Example.com", "timeZone": "Asia/Tokyo"},
        {"channel": "slack", "target": "https://hooks.slack.com/services/T0/B0/secret"},
        {"channel": "webhook", "target": "https://example.net/traytic"},
    ],
}
ALERT = {
    "kind": "spike",
    "threshold": 100,
    "recipients": [{"channel": "email", "target": "ops@example.com"}],
}


async def test_admins_write_viewers_and_keys_read_strangers_get_404(api: Api) -> None:
    owner, viewer, stranger = await api.signup(), await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    site = await api.create_site(owner)
    base = _sites(owner, site)
    key = (await api.create_key(owner))["key"]

    created = await api.call("POST", f"{base}/reports", owner, json=REPORT)
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["name"] == "Weekly report"
    email, slack, hook = report["recipients"]
    assert (email["target"], email["timeZone"]) == ("ann@example.com", "Asia/Tokyo")
    assert slack["timeZone"] == "UTC"  # the site's
    assert hook["secret"] and email.get("secret") is None
    alert = await api.call("POST", f"{base}/alerts", owner, json=ALERT)
    assert alert.status_code == 201, alert.text
    alert_url = f"{base}/alerts/{alert.json()['id']}"
    assert alert.json()["cooldownMinutes"] == 60

    for reader in ({"as_": viewer}, {"key": key}):
        listed = await api.call("GET", f"{base}/reports", **reader)  # type: ignore[arg-type]
        assert listed.status_code == 200, listed.text
        seen = listed.json()[0]["recipients"]
        assert seen[1]["target"] == "https://hooks.slack.com/…"
        assert seen[2].get("secret") is None
        got = await api.call("GET", alert_url, **reader)  # type: ignore[arg-type]
        assert got.status_code == 200
        for method, url, body in (
            ("POST", f"{base}/alerts", ALERT),
            ("PATCH", alert_url, {"threshold": 5}),
            ("DELETE", alert_url, None),
            ("POST", f"{base}/reports", REPORT),
        ):
            denied = await api.call(method, url, json=body, **reader)  # type: ignore[arg-type]
            assert denied.status_code == 403, (method, url, denied.text)

    stranger_site = await api.create_site(stranger, "other.com")
    for url in (
        f"{base}/alerts",
        alert_url,
        f"{base}/deliveries",
        f"{_sites(stranger, stranger_site)}/alerts/{alert.json()['id']}",
        f"/api/orgs/{stranger.org_id}/sites/{site['id']}/reports",
    ):
        response = await api.call("GET", url, stranger)
        assert response.status_code == 404, (url, response.text)
    other_key = (await api.create_key(stranger))["key"]
    assert (await api.call("GET", alert_url, key=other_key)).status_code == 404

    patched = await api.call(
        "PATCH", alert_url, owner, json={"threshold": 250, "cooldownMinutes": 30}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["threshold"], patched.json()["cooldownMinutes"]) == (250, 30)
    assert (await api.call("DELETE", alert_url, owner)).status_code == 204
    assert (await api.call("GET", alert_url, owner)).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("alerts", {**ALERT, "threshold": 0}, "threshold"),
        ("alerts", {**ALERT, "kind": "goal"}, "goalId"),
        ("alerts", {**ALERT, "kind": "surge"}, "kind"),
        ("alerts", {**ALERT, "threshold": "lots"}, "threshold"),
        ("alerts", {**ALERT, "cooldownMinutes": 0}, "cooldownS"),
        ("alerts", {"kind": "drop", "threshold": 2}, "threshold"),
        (
            "alerts",
            {**ALERT, "recipients": [{"channel": "email", "target": "nope"}]},
            "recipients[0].target",
        ),
        (
            "reports",
            {**REPORT, "recipients": [{"channel": "pigeon", "target": "x"}]},
            "recipients[0].channel",
        ),
        (
            "reports",
            {"recipients": [{"channel": "webhook", "target": "javascript:alert(1)"}]},
            "recipients[0].target",
        ),
        ("reports", {"frequency": "daily"}, "frequency"),
        ("reports", {"sendHour": 24}, "sendHour"),
        (
            "reports",
            {"recipients": [{"channel": "email", "target": "a@b.co", "timeZone": "Mars/Base"}]},
            "recipients[0].timeZone",
        ),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    owner = await api.signup()
    site = await api.create_site(owner)
    response = await api.call("POST", f"{_sites(owner, site)}/{path}", owner, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    listed = await api.call("GET", f"{_sites(owner, site)}/{path}", owner)
    assert listed.json() == []


async def test_goal_alerts_name_a_goal_of_their_own_site(api: Api) -> None:
    owner, stranger = await api.signup(), await api.signup()
    site, theirs = await api.create_site(owner), await api.create_site(stranger, "other.com")
    base = _sites(owner, site)

    async def goal(account: Account, where: str) -> str:
        made = await api.call(
            "POST", f"{where}/goals", account, json={"name": "Buy", "kind": "event", "match": "buy"}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    ours, strangers = await goal(owner, base), await goal(stranger, _sites(stranger, theirs))
    body = {**ALERT, "kind": "goal", "threshold": 3, "goalId": ours, "windowMinutes": 30}
    created = await api.call("POST", f"{base}/alerts", owner, json=body)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert (alert["goalId"], alert["windowMinutes"], alert["below"]) == (ours, 30, False)
    assert alert["name"] == "At least 3 conversions in 30 minutes"
    url = f"{base}/alerts/{alert['id']}"
    patched = await api.call("PATCH", url, owner, json={"below": True, "windowMinutes": 1440})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["below"], patched.json()["windowMinutes"]) == (True, 1440)
    for wrong, field in (
        ({"goalId": strangers}, "goalId"),
        ({"windowMinutes": 4}, "windowMinutes"),
        ({"threshold": 0}, "threshold"),
    ):
        refused = await api.call("PATCH", url, owner, json=wrong)
        assert (refused.status_code, refused.json()["field"]) == (400, field), refused.text
        refused = await api.call("POST", f"{base}/alerts", owner, json={**body, **wrong})
        assert (refused.status_code, refused.json()["field"]) == (400, field), refused.text
    # A goal an alert counts is not deleted from under it: the alert goes first.
    in_use = await api.call("DELETE", f"{base}/goals/{ours}", owner)
    assert in_use.status_code == 409 and "alert" in in_use.json()["message"], in_use.text
    assert (await api.call("DELETE", url, owner)).status_code == 204
    assert (await api.call("DELETE", f"{base}/goals/{ours}", owner)).status_code == 204


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    threshold=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text(max_size=5)
    ),
    target=st.text(max_size=600),
    channel=st.sampled_from(["email", "slack", "webhook", "sms", ""]),
    zone=st.one_of(st.none(), st.text(max_size=70)),
)
async def test_fuzzed_alerts_are_created_or_refused_never_500(
    api: Api, threshold: Any, target: str, channel: str, zone: str | None
) -> None:
    if not hasattr(api, "fuzz_owner"):
        api.fuzz_owner = await api.signup()  # type: ignore[attr-defined]
        api.fuzz_site = await api.create_site(api.fuzz_owner)  # type: ignore[attr-defined]
    owner, site = api.fuzz_owner, api.fuzz_site  # type: ignore[attr-defined]
    body = {
        "kind": "spike",
        "threshold": threshold,
        "recipients": [{"channel": channel, "target": target, "timeZone": zone}],
    }
    response = await api.call("POST", f"{_sites(owner, site)}/alerts", owner, json=body)
    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        assert response.json()["field"]


@pytest.fixture
async def chdb_warehouse(chdb_path: str) -> AsyncIterator[Warehouse]:
    async with fresh_warehouse(fresh_chdb_settings(chdb_path)) as warehouse:
        yield warehouse


async def test_a_sent_report_equals_the_stats_api_and_its_links_work(
    api: Api,
    app: Litestar,
    db_settings: DbSettings,
    chdb_warehouse: Warehouse,
    smtp: SmtpServer,  # noqa: F811
    http_receiver: Receiver,  # noqa: F811
) -> None:
    app.state.warehouse = chdb_warehouse
    owner = await api.signup()
    site = await api.create_site(owner)
    base = _sites(owner, site)
    await api.call("PATCH", base, owner, json={"timeZone": "Europe/Berlin"})
    await store(
        chdb_warehouse,
        [msgspec.structs.replace(row, site_id=site["id"]) for row in make_dataset()],
    )
    key = (await api.create_key(owner))["key"]
    created = await api.call(
        "POST",
        f"{base}/reports",
        owner,
        json={
            "recipients": [
                {"channel": "email", "target": "ann@example.com"},
                {"channel": "webhook", "target": f"{http_receiver.url}/hook/api"},
            ]
        },
    )
    assert created.status_code == 201, created.text
    report_url = f"{base}/reports/{created.json()['id']}"
    clock = RunningClock(datetime(2025, 3, 23, 19, 0, tzinfo=UTC))
    db = Database.from_settings(db_settings)
    try:
        async with running_scheduler(db, chdb_warehouse, fast_settings(smtp), clock=clock.time):
            for _ in range(300):  # the first round schedules each recipient
                async with db.session() as session:
                    rows = (await session.exec(select(Recipient))).all()
                if rows and all(row.next_run_at is not None for row in rows):
                    break
                await asyncio.sleep(0.1)
            clock.jump_to(datetime(2025, 3, 24, 7, 0, 5, tzinfo=UTC))
            (mail,) = await asyncio.to_thread(smtp.mailbox.wait_for, 1)
            (hook,) = await asyncio.to_thread(http_receiver.wait_for, "/hook/api", 1)
    finally:
        await db.dispose()

    scheduled = (await api.call("GET", report_url, key=key)).json()["recipients"]
    assert {r["nextReportAt"] for r in scheduled} == {"2025-03-31T06:00:00Z"}  # the next one
    week = "from=2025-03-17&to=2025-03-23"
    overview = await api.call("GET", f"/api/events/{site['id']}/overview?{week}", key=key)
    pages = await api.call("GET", f"/api/events/{site['id']}/pages?{week}&limit=5", key=key)
    sent = hook.json()["report"]
    assert sent["overview"] == overview.json()
    assert sent["pages"] == pages.json()["pages"]
    assert f"{overview.json()['visitors']['value']:,} visitors" in mail["Subject"]

    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    dashboard = next(w for w in text.split() if w.startswith("http://traytic.test/sites/"))
    page = await api.client.get(dashboard.removeprefix("http://traytic.test"))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    delivered = await api.call("GET", f"{base}/deliveries?reportId={created.json()['id']}", owner)
    assert [d["status"] for d in delivered.json()] == ["sent", "sent"]

    link = mail["List-Unsubscribe"].strip("<>").removeprefix("http://traytic.test")
    api.client.cookies.clear()
    shown = await api.client.get(link)
    assert shown.status_code == 200 and "ann@example.com" in shown.text
    assert "Unsubscribe?" in shown.text
    done = await api.client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    recipients = (await api.call("GET", report_url, owner)).json()["recipients"]
    assert [r["unsubscribed"] for r in recipients] == [True, False]
    forged = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    assert (await api.client.get(forged)).status_code == 404
    assert (await api.client.post("/unsubscribe/nonsense")).status_code == 404
