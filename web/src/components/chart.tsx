/** Visitors and pageviews per bucket, drawn with uPlot; hovering shows the bucket's numbers. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Bucket, Timeseries } from "../api";
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

  return (
    <figure class="chart-figure">
      <div class="chart" ref={box} role="img" aria-label={series ? summary(series, previous) : "Loading the chart"} />
      {series && <ChartTable series={series} previous={previous} />}
    </figure>
  );
}

function bucketLabel(start: string, hourly: boolean): string {
  const date = new Date(start);
  return hourly
    ? date.toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" });
}

const sum = (buckets: Bucket[], key: "visitors" | "pageviews") =>
  buckets.reduce((total, b) => total + b[key], 0);

/** What the chart shows, in words, for those who cannot see it. */
export function summary(series: Timeseries, previous: Timeseries | null): string {
  const hourly = series.interval === "hour";
  const unit = hourly ? "hour" : "day";
  if (series.buckets.length === 0) return "No data in this period.";
  const peak = series.buckets.reduce((a, b) => (b.visitors > a.visitors ? b : a));
  let text =
    `Visitors and pageviews per ${unit}: ${formatInteger(sum(series.buckets, "pageviews"))} pageviews ` +
    `over ${series.buckets.length} ${unit}s; the busiest ${unit} was ${bucketLabel(peak.start, hourly)} ` +
    `with ${formatInteger(peak.visitors)} visitors.`;
  if (previous) {
    text += ` The previous period, dotted: ${formatInteger(sum(previous.buckets, "pageviews"))} pageviews.`;
  }
  return text + " The table below lists every " + unit + ".";
}

/** The chart's numbers as a table, folded away: keyboard and screen-reader users get every bucket. */
function ChartTable({ series, previous }: { series: Timeseries; previous: Timeseries | null }) {
  const hourly = series.interval === "hour";
  return (
    <details class="chart-data">
      <summary>Show the chart as a table</summary>
      <div class="table-scroll">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{hourly ? "Hour" : "Day"}</th>
              <th scope="col">Visitors</th>
              <th scope="col">Pageviews</th>
              {previous && <th scope="col">Visitors (previous)</th>}
              {previous && <th scope="col">Pageviews (previous)</th>}
            </tr>
          </thead>
          <tbody>
            {series.buckets.map((b, i) => {
              const before = previous?.buckets[i];
              return (
                <tr data-bucket={b.start} data-visitors={b.visitors} data-pageviews={b.pageviews}
                  data-previous-pageviews={before?.pageviews ?? ""}>
                  <th scope="row">{bucketLabel(b.start, hourly)}</th>
                  <td>{formatInteger(b.visitors)}</td>
                  <td>{formatInteger(b.pageviews)}</td>
                  {previous && <td>{before ? formatInteger(before.visitors) : "–"}</td>}
                  {previous && <td>{before ? formatInteger(before.pageviews) : "–"}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </details>
  );
}
