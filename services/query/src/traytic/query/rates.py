"""Exchange rates for revenue reports: read from the operator's file or provider URL (the
sample shipped beside this module by default), kept in memory, refreshed from the URL in the
background. A fetch that fails keeps the last good rates and is logged; the stats get a
`Conversion` to the site's currency from whatever is current."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import httpx
import msgspec
import structlog

from traytic.core.errors import ConfigurationError
from traytic.core.revenue import CURRENCIES
from traytic.query.settings import QuerySettings
from traytic.warehouse.stats.revenue import Conversion

log = structlog.get_logger()

SAMPLE = "exchange_rates.sample.json"


class RatesFile(msgspec.Struct):
    """What providers publish: rates per unit of `base` (extra fields are ignored)."""

    rates: dict[str, float]
    base: str = "USD"


def parse_rates(body: bytes, source: str) -> dict[str, float]:
    """Units of each ISO 4217 currency per unit of the file's base (the base included, at 1).
    Unknown codes and non-positive or non-finite rates are left out."""
    try:
        found = msgspec.json.decode(body, type=RatesFile)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigurationError(f"exchange rates from {source} are not valid: {exc}") from exc
    rates = {
        code.upper(): float(rate)
        for code, rate in found.rates.items()
        if code.upper() in CURRENCIES and math.isfinite(rate) and rate > 0
    }
    rates[found.base.upper()] = 1.0
    return rates


@dataclass
class ExchangeRates:
    """The current rates and where they came from."""

    rates: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def conversion(self, currency: str) -> Conversion:
        return Conversion.of(currency, self.rates)


def _read_file(path: str) -> tuple[bytes, str]:
    if path:
        return Path(path).read_bytes(), path
    sample = resources.files("traytic.query") / SAMPLE
    return sample.read_bytes(), f"the bundled sample ({SAMPLE})"


async def fetch(url: str, timeout_s: float = 10.0) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        response = await client.get(url)
        response.raise_for_status()
        return parse_rates(response.content, url)


@contextlib.asynccontextmanager
async def keep_exchange_rates(
    settings: QuerySettings, current: ExchangeRates
) -> AsyncIterator[ExchangeRates]:
    """Fill `current` for the app's lifetime: from the file (or the sample) at once; from the
    URL when set, fetched before serving (the file stays if that fails), then every
    `exchange_rates_refresh_s` in the background."""
    try:
        body, source = await asyncio.to_thread(_read_file, settings.exchange_rates_file)
    except OSError as exc:
        raise ConfigurationError(f"TRAYTIC_EXCHANGE_RATES_FILE cannot be read: {exc}") from exc
    current.rates, current.source = parse_rates(body, source), source
    url = settings.exchange_rates_url
    task: asyncio.Task[None] | None = None
    if url:
        await _refresh(current, url)
        task = asyncio.create_task(_keep_fresh(current, url, settings.exchange_rates_refresh_s))
    log.info("exchange_rates_loaded", source=current.source, currencies=len(current.rates))
    try:
        yield current
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _refresh(current: ExchangeRates, url: str) -> None:
    try:
        current.rates = await fetch(url)
        current.source = url
    except (httpx.HTTPError, ConfigurationError) as exc:
        log.warning("exchange_rates_fetch_failed", url=url, error=str(exc)[:200])


async def _keep_fresh(current: ExchangeRates, url: str, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await _refresh(current, url)
