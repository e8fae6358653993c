"""The readers of each tool's export against the fixture files: the figures they give equal
what the files say (read here with plain `csv`), and every bad file is a clear 400."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.warehouse.imports.files import (
    GA4,
    UMAMI,
    ga4_rows,
    plausible_table,
    plausible_totals,
    plausible_zip,
    zip_folder,
)
from traytic.warehouse.imports import DailyFigures, ImportFormatError, Progress, read_file
from traytic.warehouse.imports.figures import TOTALS

JAN = [date(2024, 1, d) for d in (1, 2, 3)]


def figures(found: DailyFigures, dimension: str) -> dict[tuple[date, str, str], tuple[int, ...]]:
    return {
        (day, value, parent): (s.visitors, s.visits, s.pageviews, s.bounces, s.visit_duration)
        for (dim, day, value, parent), s in found.items()
        if dim == dimension
    }


def test_plausible_export(tmp_path: Path) -> None:
    progress = Progress()
    found = read_file("plausible", plausible_zip(tmp_path), "UTC", progress)
    assert progress.total > 0 and progress.done == progress.total
    assert found.days() == JAN
    for day in JAN:
        expected = plausible_totals(day, day)
        assert figures(found, TOTALS)[(day, "", "")] == (
            expected["visitors"], expected["visits"], expected["pageviews"],
            expected["bounces"], expected["visit_duration"],
        )  # fmt: skip
    pages = figures(found, "pathname")
    for row in plausible_table("pages"):
        key = (date.fromisoformat(row["date"]), row["page"], "")
        assert pages[key][:3] == (int(row["visitors"]), int(row["visits"]), int(row["pageviews"]))
    sources = figures(found, "referrer_source")
    # "Direct / None" and the empty source are both direct traffic: one value, summed.
    assert sources[(date(2024, 1, 3), "", "")][:2] == (5, 6)
    assert sources[(date(2024, 1, 1), "", "")][:2] == (4, 5)
    assert figures(found, "utm_campaign") == {(date(2024, 1, 3), "spring", ""): (5, 6, 9, 2, 300)}
    assert figures(found, "referrer")[(date(2024, 1, 2), "news.ycombinator.com/item", "")]
    # Spelled as the consumer spells them: devices lower-case, Mac as macOS, regions as codes.
    assert {value for _, value, _ in figures(found, "device")} == {"desktop", "mobile", "tablet"}
    assert {value for _, value, _ in figures(found, "os")} == {"macOS", "iOS", "Windows", "Linux"}
    assert figures(found, "region")[(date(2024, 1, 1), "BE", "DE")][:2] == (6, 7)
    assert figures(found, "browser_version")[(date(2024, 1, 1), "120.0", "Chrome")][0] == 7
    assert not figures(found, "city"), "GeoNames ids are left out"
    assert figures(found, "entry_page")[(date(2024, 1, 1), "/", "")][:2] == (8, 9)
    assert figures(found, "exit_page")[(date(2024, 1, 2), "/pricing", "")][:2] == (4, 4)


def test_umami_export_and_table_dump_agree(tmp_path: Path) -> None:
    export = read_file("umami", UMAMI / "umami_export.csv", "UTC")
    dump = read_file(
        "umami",
        zip_folder(UMAMI, tmp_path / "dump.zip", ["website_event.csv", "session.csv"]),
        "UTC",
    )
    assert export.rows == dump.rows
    totals = figures(export, TOTALS)
    # Worked out by hand from website_event.csv: two visits a day, the second day's both bounce.
    assert totals[(date(2024, 2, 1), "", "")] == (2, 2, 4, 0, 180 + 600)
    assert totals[(date(2024, 2, 2), "", "")] == (2, 2, 2, 2, 0)
    assert sum(s.events for (dim, *_), s in export.items() if dim == TOTALS) == 1
    sources = figures(export, "referrer_source")
    assert sources[(date(2024, 2, 1), "google.com", "")][:3] == (1, 1, 2)
    assert sources[(date(2024, 2, 2), "", "")][:3] == (2, 2, 2)
    assert figures(export, "pathname")[(date(2024, 2, 1), "/", "")] == (2, 2, 2, 0, 0)
    assert figures(export, "region")[(date(2024, 2, 1), "CA", "US")][:2] == (1, 1)
    assert figures(export, "browser")[(date(2024, 2, 1), "Safari", "")][:2] == (1, 1)
    assert figures(export, "device")[(date(2024, 2, 1), "desktop", "")][:2] == (1, 1)


def test_umami_days_follow_the_site_time_zone() -> None:
    """23:30 UTC on 1 February is 2 February in Berlin: that visit moves to the next day."""
    found = read_file("umami", UMAMI / "umami_export.csv", "Europe/Berlin")
    totals = figures(found, TOTALS)
    assert totals[(date(2024, 2, 1), "", "")][:2] == (1, 1)
    assert totals[(date(2024, 2, 2), "", "")][:2] == (3, 3)


def test_ga4_files(tmp_path: Path) -> None:
    found = read_file("ga4", zip_folder(GA4, tmp_path / "ga4.zip"), "UTC")
    totals = figures(found, TOTALS)
    for row in ga4_rows("ga4_totals.csv"):
        day = date(int(row["Date"][:4]), int(row["Date"][4:6]), int(row["Date"][6:]))
        sessions = int(row["Sessions"])
        assert totals[(day, "", "")] == (
            int(row["Total users"]), sessions, int(row["Views"]),
            sessions - int(row["Engaged sessions"]),
            round(float(row["Average session duration"]) * sessions),
        )  # fmt: skip
    assert figures(found, "pathname")[(date(2024, 3, 1), "/blog", "")][:3] == (50, 0, 150)
    sources = figures(found, "referrer_source")
    assert sources[(date(2024, 3, 2), "", "")][:2] == (60, 70), "(direct) is direct traffic"
    countries = figures(found, "country")
    assert countries[(date(2024, 3, 1), "DE", "")][:2] == (70, 90), "names become ISO codes"
    assert countries[(date(2024, 3, 2), "", "")][:2] == (40, 60)
    assert set(figures(found, "device")) >= {(date(2024, 3, 2), "tablet", "")}


def test_a_single_ga4_csv_with_the_date_dimension(tmp_path: Path) -> None:
    found = read_file("ga4", GA4 / "ga4_totals.csv", "UTC")
    assert found.days() == [date(2024, 3, 1), date(2024, 3, 2)]


@pytest.mark.parametrize(
    ("source", "name", "content", "message"),
    [
        ("plausible", "x.zip", None, "not a ZIP file"),
        ("plausible", "x.zip", {"notes.csv": "a,b\n1,2\n"}, "not a file of a Plausible export"),
        (
            "plausible",
            "x.zip",
            {"imported_pages_20240101_20240102.csv": "date,page,visitors\n2024-01-01,/,1\n"},
            "no imported_visitors",
        ),
        (
            "plausible",
            "x.zip",
            {"imported_visitors_20240101_20240102.csv": "date,visitors,visits\nnope,1,1\n"},
            "is not a date",
        ),
        (
            "plausible",
            "x.zip",
            {"imported_visitors_20240101_20240102.csv": "date,visitors,visits\n2024-01-01,-4,1\n"},
            "must be a number from 0",
        ),
        ("umami", "x.csv", {"": "session_id,created_at\n1,2024-01-01\n"}, "no column 'url_path'"),
        ("ga4", "x.csv", {"": "Page path,Views,Active users\n/,1,1\n"}, "no Date column"),
        (
            "ga4",
            "x.csv",
            {"": "Date,Page path,Views,Active users\n20240101,/,1,1\n"},
            "daily totals",
        ),
    ],
)
def test_bad_files_are_400s_that_say_why(
    tmp_path: Path, source: str, name: str, content: dict[str, str] | None, message: str
) -> None:
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"not a zip at all")
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            for member, text in content.items():
                archive.writestr(member, text)
    else:
        path.write_text(content[""])
    with pytest.raises(ImportFormatError, match=message) as caught:
        read_file(source, path, "UTC")
    assert caught.value.status == 400 and caught.value.field == "file"
