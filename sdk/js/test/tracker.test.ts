import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  FLUSH_DELAY_MS,
  MAX_EVENTS_PER_BEACON,
  type TrackerOptions,
  createTracker,
  send,
} from "../src/tracker";
import type { Beacon } from "../src/types";
import { beaconFault } from "./wire";

const SITE = "st_test";

function start(options: Partial<TrackerOptions> = {}) {
  const sent: { endpoint: string; beacon: Beacon }[] = [];
  const tracker = createTracker({ siteId: SITE, ...options }, (endpoint, body) => {
    const beacon = JSON.parse(body);
    // Every body the tracker builds must pass the gateway's schema.
    expect(beaconFault(beacon)).toBeNull();
    sent.push({ endpoint, beacon });
  });
  const events = () => sent.flatMap((s) => s.beacon.events);
  return { tracker, sent, events };
}

function setVisibility(state: "visible" | "hidden") {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}

beforeEach(() => {
  vi.useFakeTimers();
  window.happyDOM.setURL("https://example.com/start?utm_source=news#top");
});

afterEach(() => {
  vi.useRealTimers();
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  Object.defineProperty(navigator, "doNotTrack", { value: null, configurable: true });
});

describe("page views", () => {
  it("counts the page it starts on, after the batching delay, without the fragment", () => {
    const { sent } = start();
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(sent).toEqual([
      {
        endpoint: "/collect",
        beacon: {
          siteId: SITE,
          screen: window.innerWidth,
          events: [{ type: "pageview", url: "https://example.com/start?utm_source=news" }],
        },
      },
    ]);
  });

  it("counts pushState, replaceState and popstate, with the previous page as referrer", () => {
    const { events } = start({ endpoint: "https://stats.example.net/collect" });
    history.pushState({}, "", "/a");
    history.replaceState({}, "", "/b?x=1");
    history.pushState({}, "", "/b?x=1"); // same URL: not a new page view
    window.happyDOM.setURL("https://example.com/a");
    window.dispatchEvent(new PopStateEvent("popstate"));
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events()).toEqual([
      { type: "pageview", url: "https://example.com/start?utm_source=news" },
      {
        type: "pageview",
        url: "https://example.com/a",
        referrer: "https://example.com/start?utm_source=news",
      },
      { type: "pageview", url: "https://example.com/b?x=1", referrer: "https://example.com/a" },
      { type: "pageview", url: "https://example.com/a", referrer: "https://example.com/b?x=1" },
    ]);
  });

  it("leaves the History API alone with spa: false", () => {
    const { events } = start({ spa: false });
    history.pushState({}, "", "/elsewhere");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events().map((e) => e.url)).toEqual(["https://example.com/start?utm_source=news"]);
  });

  it("follows hash routes with hashRouting", () => {
    window.happyDOM.setURL("https://example.com/#/home");
    const { events } = start({ hashRouting: true });
    window.happyDOM.setURL("https://example.com/#/users/42");
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events().map((e) => e.url)).toEqual([
      "https://example.com/#/home",
      "https://example.com/#/users/42",
    ]);
  });

  it("hashes id-like segments in the path and the hash route with hashPaths", () => {
    window.happyDOM.setURL("https://example.com/users/123/posts/550e8400-e29b-41d4-a716-446655440000?tab=1#/x/77");
    const { tracker, events } = start({ hashPaths: true, hashRouting: true });
    tracker.track("open");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events().map((e) => e.url)).toEqual([
      "https://example.com/users/[id]/posts/[id]?tab=1#/x/[id]",
      "https://example.com/users/[id]/posts/[id]?tab=1#/x/[id]",
    ]);
  });

  it("sends document.referrer with the first page view", () => {
    Object.defineProperty(document, "referrer", { value: "https://google.com/", configurable: true });
    try {
      const { events } = start();
      vi.advanceTimersByTime(FLUSH_DELAY_MS);
      expect(events()[0]).toMatchObject({ type: "pageview", referrer: "https://google.com/" });
    } finally {
      Object.defineProperty(document, "referrer", { value: "", configurable: true });
    }
  });
});

describe("custom events", () => {
  it("keeps flat props and drops values the gateway would reject", () => {
    const { tracker, events } = start();
    tracker.track("purchase", {
      product: "shirt",
      value: 49.99,
      first: true,
      coupon: null,
      nested: { a: 1 },
      list: [1],
      missing: undefined,
      fn: () => 1,
    });
    tracker.track("plain");
    tracker.track("");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events().slice(1)).toEqual([
      {
        type: "event",
        name: "purchase",
        url: "https://example.com/start?utm_source=news",
        props: { product: "shirt", value: 49.99, first: true, coupon: null },
      },
      { type: "event", name: "plain", url: "https://example.com/start?utm_source=news" },
    ]);
  });
});

describe("revenue", () => {
  it("sends revenue as given, beside props or without them", () => {
    const { tracker, events } = start();
    tracker.track("purchase", { plan: "pro" }, { revenue: { amount: 29.99, currency: "EUR" } });
    tracker.track("order", null, { revenue: { amount: "14900.50", currency: "NGN" } });
    tracker.track("free", undefined, {});
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    const url = "https://example.com/start?utm_source=news";
    expect(events().slice(1)).toEqual([
      {
        type: "event",
        name: "purchase",
        url,
        props: { plan: "pro" },
        revenue: { amount: 29.99, currency: "EUR" },
      },
      { type: "event", name: "order", url, revenue: { amount: "14900.50", currency: "NGN" } },
      { type: "event", name: "free", url },
    ]);
    for (const body of events()) expect(beaconFault({ siteId: "st_x", events: [body] })).toBeNull();
  });
});

describe("batching", () => {
  it("sends events from one short window in one beacon", () => {
    const { tracker, sent } = start();
    tracker.track("a");
    vi.advanceTimersByTime(FLUSH_DELAY_MS / 2);
    tracker.track("b");
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(FLUSH_DELAY_MS / 2);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.beacon.events.map((e) => e.type)).toEqual(["pageview", "event", "event"]);
  });

  it(`sends at once when ${MAX_EVENTS_PER_BEACON} events are waiting`, () => {
    const { tracker, sent } = start();
    for (let i = 1; i < MAX_EVENTS_PER_BEACON * 2; i++) tracker.track(`e${i}`);
    expect(sent.map((s) => s.beacon.events.length)).toEqual([MAX_EVENTS_PER_BEACON, MAX_EVENTS_PER_BEACON]);
  });

  it("flushes when the page is hidden and on pagehide", () => {
    const { tracker, sent } = start();
    setVisibility("hidden");
    expect(sent).toHaveLength(1);
    setVisibility("visible");
    tracker.track("late");
    window.dispatchEvent(new Event("pagehide"));
    expect(sent).toHaveLength(2);
  });

  it("holds vitals until the page is hidden, on the URL of the page they measured", () => {
    const { tracker, sent, events } = start();
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    history.pushState({}, "", "/next");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    const before = sent.length;
    tracker.vital("LCP", 1830.5);
    tracker.vital("CLS", 0);
    vi.advanceTimersByTime(FLUSH_DELAY_MS * 10);
    expect(sent).toHaveLength(before);
    setVisibility("hidden");
    expect(events().slice(-2)).toEqual([
      { type: "vital", name: "LCP", value: 1830.5, url: "https://example.com/start?utm_source=news" },
      { type: "vital", name: "CLS", value: 0, url: "https://example.com/start?utm_source=news" },
    ]);
  });
});

describe("privacy", () => {
  it("is off under Do Not Track by default", () => {
    Object.defineProperty(navigator, "doNotTrack", { value: "1", configurable: true });
    const { tracker, sent } = start();
    tracker.track("x");
    setVisibility("hidden");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(tracker.enabled).toBe(false);
    expect(sent).toEqual([]);
  });

  it("ignores Do Not Track with respectDnt: false", () => {
    Object.defineProperty(navigator, "doNotTrack", { value: "1", configurable: true });
    const { tracker } = start({ respectDnt: false });
    expect(tracker.enabled).toBe(true);
  });

  it("is off on localhost unless allowLocalhost", () => {
    window.happyDOM.setURL("http://localhost:3000/");
    expect(start().tracker.enabled).toBe(false);
    const { tracker, events } = start({ allowLocalhost: true });
    expect(tracker.enabled).toBe(true);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(events()[0]).toEqual({ type: "pageview", url: "http://localhost:3000/" });
  });

  it("is off without a site id", () => {
    expect(start({ siteId: "" }).tracker.enabled).toBe(false);
  });

  it("writes no cookie and no storage", () => {
    const { tracker } = start();
    tracker.track("x", { a: 1 });
    tracker.vital("INP", 40);
    setVisibility("hidden");
    expect(document.cookie).toBe("");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });
});

describe("send", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("uses sendBeacon with the body as a string (sent as text/plain)", () => {
    const beacon = vi.fn(() => true);
    const fetcher = vi.fn(() => Promise.resolve(new Response(null, { status: 204 })));
    Object.defineProperty(navigator, "sendBeacon", { value: beacon, configurable: true });
    vi.stubGlobal("fetch", fetcher);
    send("https://s.example/collect", '{"a":1}');
    expect(beacon).toHaveBeenCalledWith("https://s.example/collect", '{"a":1}');
    expect(fetcher).not.toHaveBeenCalled();
  });

  it.each([
    ["refuses", () => false],
    ["throws", () => {
      throw new TypeError("no");
    }],
  ])("falls back to fetch with keepalive when sendBeacon %s", (_, impl) => {
    const fetcher = vi.fn(() => Promise.resolve(new Response(null, { status: 204 })));
    Object.defineProperty(navigator, "sendBeacon", { value: vi.fn(impl), configurable: true });
    vi.stubGlobal("fetch", fetcher);
    send("https://s.example/collect", '{"a":1}');
    expect(fetcher).toHaveBeenCalledWith("https://s.example/collect", {
      method: "POST",
      body: '{"a":1}',
      keepalive: true,
      mode: "no-cors",
      credentials: "omit",
    });
  });
});
