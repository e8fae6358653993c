/** The current-visitors count and the latest events, over SSE; reconnects by itself. */
import { useEffect, useState } from "preact/hooks";
import { stats, type LiveEvent } from "../api";
import { eventTime, formatInteger } from "../format";

const FEED_SIZE = 20;
const RETRY_MS = 3000;
const WINDOW_MS = 5 * 60 * 1000;

export function Live({ siteId }: { siteId: string }) {
  const [visitors, setVisitors] = useState<number | null>(null);
  const [feed, setFeed] = useState<LiveEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    let closed = false;
    let source: EventSource | null = null;
    let retry: number | undefined;

    let opened = 0;

    const fetchLive = (withFeed: boolean) =>
      stats<{ visitors: number; events: LiveEvent[] }>(siteId, "live", "")
        .then((live) => {
          if (closed) return;
          setVisitors(live.visitors);
          if (withFeed) setFeed((f) => (f.length ? f : live.events.slice(0, FEED_SIZE)));
        })
        .catch(() => undefined);
    void fetchLive(true);

    function connect() {
      source = new EventSource(`/api/stream/${encodeURIComponent(siteId)}`);
      source.onopen = () => {
        opened = Date.now();
        setConnected(true);
      };
      source.addEventListener("visitors", (e) => {
        // The stream counts the visitors it has seen since the replica subscribed, so for its
        // first five minutes it undercounts: until then, the live report (the warehouse) counts.
        if (Date.now() - opened < WINDOW_MS) void fetchLive(false);
        else setVisitors(JSON.parse((e as MessageEvent).data).visitors);
      });
      // Live events are unnamed, the default `message` event (what `es.onmessage` receives).
      source.onmessage = (e) => {
        const event = JSON.parse(e.data as string) as LiveEvent;
        setFeed((f) => [event, ...f].slice(0, FEED_SIZE));
      };
      source.onerror = () => {
        setConnected(false);
        // The browser retries a dropped stream itself; a refused one (429, 5xx) is closed for good.
        if (source?.readyState === EventSource.CLOSED && !closed) {
          retry = window.setTimeout(connect, RETRY_MS);
        }
      };
    }
    connect();
    return () => {
      closed = true;
      window.clearTimeout(retry);
      source?.close();
    };
  }, [siteId]);

  return (
    <div class="live" onKeyDown={(e) => e.key === "Escape" && setOpen(false)}>
      <button
        type="button"
        class="live-count"
        aria-expanded={open}
        aria-controls="live-feed"
        aria-label={`${visitors === null ? "–" : formatInteger(visitors)} current ${visitors === 1 ? "visitor" : "visitors"}${connected ? ", live" : ", reconnecting"}: show the latest events`}
        onClick={() => setOpen(!open)}
      >
        <span class={`dot ${connected ? "on" : ""}`} aria-hidden="true" />
        <span data-live-visitors={visitors ?? ""}>{visitors === null ? "–" : formatInteger(visitors)}</span>{" "}
        current {visitors === 1 ? "visitor" : "visitors"}
      </button>
      {open && (
        <div
          class="live-feed card"
          id="live-feed"
          role="log"
          aria-label="Live events"
        >
          {feed.length === 0 ? (
            <p class="muted">No events in the last minutes.</p>
          ) : (
            <ul>
              {feed.map((e) => (
                <li>
                  <time class="muted">{eventTime(e.ts).toLocaleTimeString()}</time>{" "}
                  <b>{e.type === "pageview" ? e.pathname : e.name || e.type}</b>{" "}
                  <span class="muted">
                    {[e.browser, e.device, e.country].filter(Boolean).join(" · ")}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
