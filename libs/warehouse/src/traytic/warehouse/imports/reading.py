"""Reading the files people bring: CSV tables by column name (wherever the column stands), the
members of a ZIP, and how far through them an import is (for the progress bar)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

from traytic.warehouse.imports.figures import ImportFormatError

MAX_CELL = 1_000_000
"""csv's own field limit is 128 KiB; a page URL is far below, a broken file far above."""
MAX_MEMBERS = 1000
MAX_UNPACKED = 20 * 2**30
"""A ZIP that would unpack past 20 GiB is refused before reading (a zip bomb)."""

csv.field_size_limit(MAX_CELL)


@dataclass(slots=True)
class Progress:
    """Units done of the total (bytes read, as the reader gets through the files); written by
    the reading thread, read by whoever reports the job's progress."""

    done: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


class CountingReader(io.RawIOBase):
    """A binary stream that adds each read's size to a `Progress`."""

    def __init__(self, inner: IO[bytes], progress: Progress) -> None:
        self.inner = inner
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.progress.done += len(data)
        return len(data)


def csv_rows(stream: IO[bytes], name: str) -> Iterator[dict[str, str]]:
    """The rows of a CSV with a header line, keys lower-cased and trimmed; lines that start with
    `#` before the header (GA4 writes its report's title and dates there) are skipped."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        lines = (line for line in text if line.strip() and not line.startswith("#"))
        reader = csv.reader(lines)
        header = next(reader, None)
        if header is None:
            return
        columns = [column.strip().lower() for column in header]
        for number, cells in enumerate(reader, start=2):
            if len(cells) != len(columns):
                raise ImportFormatError(
                    f"{name}, row {number}: {len(cells)} cells under {len(columns)} columns"
                )
            yield dict(zip(columns, cells, strict=True))
    except csv.Error as exc:
        raise ImportFormatError(f"{name}: not a CSV file ({exc})") from None


def require(row: dict[str, str], columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in row]
    if missing:
        raise ImportFormatError(f"{name}: no column {missing[0]!r} (it has {', '.join(row)})")


def parse_day(text: str, where: str) -> date:
    """`2024-01-31`, `20240131` (GA4) or a timestamp's date."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 8 and cleaned.isdigit():
            return date(int(cleaned[:4]), int(cleaned[4:6]), int(cleaned[6:]))
        if len(cleaned) == 10:
            return date.fromisoformat(cleaned)
        return datetime.fromisoformat(cleaned.replace(" UTC", "+00:00")).date()
    except ValueError:
        raise ImportFormatError(f"{where}: {cleaned[:40]!r} is not a date") from None


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ImportFormatError(f"{path.name}: not a ZIP file") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_UNPACKED:
        archive.close()
        raise ImportFormatError(f"{path.name}: too many files or too large once unpacked")
    return archive


def csv_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The CSV files of an archive, wherever they are in it (macOS adds `__MACOSX/` copies)."""
    return [
        info
        for info in archive.infolist()
        if info.filename.lower().endswith(".csv")
        and not info.is_dir()
        and "__MACOSX/" not in info.filename
    ]


def basename(member: str) -> str:
    return member.rsplit("/", 1)[-1]
