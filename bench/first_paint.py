"""Dashboard first paint: how soon a site's dashboard shows its figures, in Chromium on loopback.

    uv run python bench/first_paint.py [--events 20000] [--runs 15]

Starts `traytic dev` (chDB, embedded NATS), fills its demo site with `traytic demo` (30 days of
sample traffic), logs in once through the form, then opens the dashboard `--runs` times in that
logged-in browser, warm (assets cached, as a returning user) and cold (cache disabled). Each
run reads, from the page's own navigation start (Performance API, so no polling error):

- first contentful paint (the shell: header, cards without figures);
- key figures: the visitors card shows its number (the overview answered and was painted);
- everything: the chart is drawn and the pages, sources, countries and devices panels have
  their rows.

Baseline in the same run and browser: the first contentful paint of `/healthz` from the same
server (a page with nothing to fetch). Target: key figures <= 300 ms on loopback (issue 16).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.async_api import Browser, Page, async_playwright  # noqa: E402
from tests.web.conftest import (  # noqa: E402
    ARGS,
    CHROMIUM,
    DESKTOP_UA,
    _ensure_built,
    log_in,
    running_dev,
)

TARGET_MS = 300.0
PANELS = ("pages", "sources", "countries", "devices")

# Run in the page once a condition first holds: ms since the navigation started.
_SINCE_NAVIGATION = "() => performance.now()"
_FCP = """() => new Promise((resolve) => {
  const seen = performance.getEntriesByName('first-contentful-paint');
  if (seen.length) { resolve(seen[0].startTime); return; }
  new PerformanceObserver((list) => {
    const fcp = list.getEntriesByName('first-contentful-paint');
    if (fcp.length) resolve(fcp[0].startTime);
  }).observe({ type: 'paint', buffered: true });
})"""
_FIGURES = """() => {
  const value = document.querySelector('[data-kpi="visitors"] .kpi-value');
  return value !== null && value.getAttribute('data-value') !== '';
}"""
_EVERYTHING = (
    """() => document.querySelector('.u-over') !== null && ["""
    + ", ".join(f"'{panel}'" for panel in PANELS)
    + """].every((panel) =>
  document.querySelector(`[data-panel="${panel}"] .row`) !== null)"""
)


async def one_run(page: Page, url: str) -> dict[str, float]:
    await page.goto(url, wait_until="commit")
    # Polled on every animation frame: the time read is the frame that first showed it.
    await page.wait_for_function(_FIGURES, polling="raf", timeout=60_000)
    figures = float(await page.evaluate(_SINCE_NAVIGATION))
    await page.wait_for_function(_EVERYTHING, polling="raf", timeout=60_000)
    everything = float(await page.evaluate(_SINCE_NAVIGATION))
    fcp = float(await page.evaluate(_FCP))
    return {"fcp": fcp, "figures": figures, "everything": everything}


async def baseline_fcp(page: Page, url: str) -> float:
    await page.goto(url)
    return float(await page.evaluate(_FCP))


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


async def measure(browser: Browser, dev: Any, runs: int) -> dict[str, dict[str, list[float]]]:
    page = await log_in(browser, dev)  # lands on the dashboard: assets now cached
    dashboard = page.url
    results: dict[str, dict[str, list[float]]] = {}
    cdp = await page.context.new_cdp_session(page)
    for mode in ("warm", "cold"):
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": mode == "cold"})
        samples: dict[str, list[float]] = {"fcp": [], "figures": [], "everything": []}
        await one_run(page, dashboard)  # not counted: the first run of a mode warms the server
        for _ in range(runs):
            for name, value in (await one_run(page, dashboard)).items():
                samples[name].append(value)
        samples["baseline"] = [await baseline_fcp(page, f"{dev.url}/healthz") for _ in range(runs)]
        results[mode] = samples
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    _ensure_built()
    with tempfile.TemporaryDirectory(prefix="traytic-bench-paint-") as root:
        data = Path(root) / "data"
        with running_dev(data) as dev:
            subprocess.run(
                [sys.executable, "-m", "traytic.cli.main", "demo", "--events", str(args.events)],
                env={**os.environ, "TRAYTIC_DATA_DIR": str(data)},
                check=True,
                capture_output=True,
            )
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=[*ARGS, f"--user-agent={DESKTOP_UA.format(version=124)}"],
                )
                try:
                    results = await measure(browser, dev, args.runs)
                finally:
                    await browser.close()
    print(
        f"\n== dashboard first paint: traytic dev (chDB), ~{args.events:,} demo events over"
        f" 30 days, Chromium on loopback, {args.runs} runs each (ms from navigation start) =="
    )
    print(f"{'':30} {'p50':>7} {'p95':>7}")
    for mode, samples in results.items():
        for name, label in (
            ("baseline", "baseline: /healthz FCP"),
            ("fcp", "first contentful paint"),
            ("figures", "key figures painted"),
            ("everything", "chart + 4 panels painted"),
        ):
            values = samples[name]
            verdict = ""
            if name == "figures":
                verdict = f"  target <= {TARGET_MS:.0f}  " + (
                    "ok" if p50(values) <= TARGET_MS else "MISSED"
                )
            print(f"{mode + ': ' + label:30} {p50(values):7.0f} {p95(values):7.0f}{verdict}")


if __name__ == "__main__":
    asyncio.run(main())
