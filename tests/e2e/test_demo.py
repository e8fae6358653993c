"""`traytic demo` beside a running `traytic dev`: what the dashboard's API shows is exactly what
the demo sent, day by day, though every beacon went through `/collect` and the real consumer.

The test generates the same traffic itself (same seed, same end) and counts from it: page views
per page and per UTC day, countries and cities from the dev consumer's GeoIP, custom events and
their props, Web Vitals samples, campaign tags. The rhythm the demo promises is checked on the
stored days: a launch-day spike and quieter weekends.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.conftest import start_dev
from traytic.cli.demo.traffic import SampleBeacon, generate
from traytic.cli.geoip import TEST_CITY_DB
from traytic.consumer.enrich.geo import GeoLocator

EVENTS = 6_000
DAYS = 30
SEED = 11


def _run_demo(data_dir: Path, end: datetime) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "traytic.cli.main", "demo", "--events", str(EVENTS)]
    command += ["--days", str(DAYS), "--seed", str(SEED), "--end", end.isoformat()]
    env = {**os.environ, "TRAYTIC_DATA_DIR": str(data_dir)}
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _sent(site_id: str, end: datetime) -> list[SampleBeacon]:
    locator = GeoLocator(TEST_CITY_DB)
    try:
        people = generate(
            site_id,
            "http://localhost",
            locator,
            events=EVENTS,
            days=DAYS,
            end=end.timestamp(),
            seed=SEED,
        )
    finally:
        locator.close()
    return [beacon for person in people for beacon in person.beacons]


def _views(sent: list[SampleBeacon]) -> list[tuple[SampleBeacon, dict[str, Any]]]:
    return [(b, e) for b in sent for e in b.events if e["type"] == "pageview"]


async def test_the_demo_fills_the_dashboard_with_what_it_sent(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        info = json.loads((tmp_path / "data" / "dev.json").read_text())
        end = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
        started = time.monotonic()
        demo = await asyncio.to_thread(_run_demo, tmp_path / "data", end)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "all stored" in demo.stdout and f"seed {SEED}" in demo.stdout
        print(f"traytic demo --events {EVENTS}: {time.monotonic() - started:.1f} s")

        sent = _sent(info["site_id"], end)
        views = _views(sent)
        first = (end - timedelta(days=DAYS - 1)).date()
        query = f"from={first.isoformat()}&to={end.date().isoformat()}&tz=UTC&limit=1000"
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{dev.port}/api/events/{info['site_id']}",
            headers={"authorization": f"Bearer {info['api_key']}"},
            timeout=30,
        ) as api:

            async def report(name: str, extra: str = "") -> Any:
                response = await api.get(f"/{name}?{query}{extra}")
                assert response.status_code == 200, response.text
                return response.json()

            overview = await report("overview")
            assert overview["pageviews"]["value"] == len(views)
            custom = [e for b in sent for e in b.events if e["type"] == "event"]
            assert overview["events"]["value"] == len(custom)

            pages = {row["value"]: row["pageviews"] for row in (await report("pages"))["pages"]}
            assert pages == Counter(urlsplit(e["url"]).path for _, e in views)

            # Backdated: each stored day holds that day's page views.
            series = await report("timeseries", "&interval=day")
            by_day = {
                date.fromisoformat(b["start"][:10]): b["pageviews"] for b in series["buckets"]
            }
            per_day = Counter(datetime.fromtimestamp(b.at, UTC).date() for b, _ in views)
            assert {day: n for day, n in by_day.items() if n} == dict(per_day)
            assert len(per_day) == DAYS

            locator = GeoLocator(TEST_CITY_DB)
            places = [locator.locate(b.ip) for b, _ in views]
            countries = await report("countries")
            stored = {row["value"]: row["pageviews"] for row in countries["countries"]}
            assert stored == Counter(place.country for place in places)
            cities = {row["value"]: row["pageviews"] for row in countries["cities"]}
            assert cities == Counter(place.city for place in places if place.city)
            assert {"London", "San Diego", "Linköping"} <= set(cities)
            assert len(stored) >= 15

            events = {row["name"]: row for row in (await report("events"))["events"]}
            assert {name: row["events"] for name, row in events.items()} == Counter(
                e["name"] for e in custom
            )
            signup_plans = Counter(e["props"]["plan"] for e in custom if e["name"] == "signup")
            stored_plans = {p["value"]: p["events"] for p in events["signup"]["props"]}
            assert stored_plans == signup_plans

            vitals = await report("vitals")
            samples = {v["metric"]: v["samples"] for v in vitals["overall"]}
            sent_vitals = Counter(e["name"] for b in sent for e in b.events if e["type"] == "vital")
            assert samples == sent_vitals
            assert {v["route"] for v in vitals["routes"]} >= {"/", "/pricing", "/docs"}

            campaigns = {
                row["value"]: row["pageviews"] for row in (await report("sources"))["utmCampaigns"]
            }
            assert campaigns == Counter(
                parse_qs(urlsplit(e["url"]).query)["utm_campaign"][0]
                for _, e in views
                if "utm_campaign=" in e["url"]
            )
            assert "launch" in campaigns

        # The rhythm: the launch day is the busiest; weekends are quieter than weekdays.
        busiest = max(per_day, key=lambda day: per_day[day])
        assert busiest.weekday() == 1  # launched on a Tuesday
        full_days = [day for day in per_day if day != end.date() and abs((day - busiest).days) > 3]
        weekend = [per_day[d] for d in full_days if d.weekday() >= 5]
        weekdays = [per_day[d] for d in full_days if d.weekday() < 5]
        assert sum(weekend) / len(weekend) < 0.8 * sum(weekdays) / len(weekdays)
    finally:
        assert dev.stop() == 0


async def test_the_demo_says_what_to_do_without_a_running_dev(tmp_path: Path) -> None:
    missing = await asyncio.to_thread(_run_demo, tmp_path / "nothing", datetime.now(UTC))
    assert missing.returncode == 2
    assert "make dev" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "stopped").mkdir()
    stale = {"site_id": "st_x", "nats_url": "nats://127.0.0.1:9", "url": "http://localhost:1"}
    (tmp_path / "stopped" / "dev.json").write_text(json.dumps(stale))
    stopped = await asyncio.to_thread(_run_demo, tmp_path / "stopped", datetime.now(UTC))
    assert stopped.returncode == 2
    assert "not running" in stopped.stderr and "Traceback" not in stopped.stderr
