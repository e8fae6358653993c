/** Visitors and pageviews per bucket, drawn with uPlot; hovering shows the bucket's numbers. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Timeseries } from "../api";
import { formatInteger } from "../format";

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function Chart({
  series,
  previous,
}: {
  series: Timeseries | null;
  previous: Timeseries | null;
}) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el || !series) return;
    const hourly = series.interval === "hour";
    const x = series.buckets.map((b) => Date.parse(b.start) / 1000);
    // The previous period is drawn bucket by bucket under the current one (same position).
    const before = (key: "visitors" | "pageviews") =>
      series.buckets.map((_, i) => previous?.buckets[i]?.[key] ?? null);
    const data: uPlot.AlignedData = [
      x,
      series.buckets.map((b) => b.visitors),
      series.buckets.map((b) => b.pageviews),
      ...(previous ? [before("visitors"), before("pageviews")] : []),
    ];
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height: 260,
        scales: { x: { time: true } },
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        axes: [
          { ...axis, values: hourly ? "{HH}:{mm}" : "{MMM} {D}" },
          { ...axis, values: (_u, ticks) => ticks.map(formatInteger) },
        ],
        series: [
          { value: hourly ? "{MMM} {D} {HH}:{mm}" : "{WWW} {MMM} {D}" },
          {
            label: "Visitors",
            stroke: cssVar("--accent"),
            fill: cssVar("--accent-fill"),
            width: 2,
            value: (_u, v) => (v == null ? "–" : formatInteger(v)),
          },
          {
            label: "Pageviews",
            stroke: cssVar("--accent-2"),
            width: 2,
            value: (_u, v) => (v == null ? "–" : formatInteger(v)),
          },
          ...(previous
            ? [
                {
                  label: "Visitors (previous)",
                  stroke: cssVar("--accent"),
                  dash: [4, 4],
                  width: 1.5,
                  points: { show: false },
                  value: (_u: uPlot, v: number | null) => (v == null ? "–" : formatInteger(v)),
                },
                {
                  label: "Pageviews (previous)",
                  stroke: cssVar("--accent-2"),
                  dash: [4, 4],
                  width: 1.5,
                  points: { show: false },
                  value: (_u: uPlot, v: number | null) => (v == null ? "–" : formatInteger(v)),
                },
              ]
            : []),
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, previous]);

  return <div class="chart" ref={box} aria-label="Visitors and pageviews over time" />;
}
