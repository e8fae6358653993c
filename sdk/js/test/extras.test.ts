import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DOWNLOAD, IDLE_MS, MAX_MESSAGE_LENGTH, OUTBOUND, type ExtrasOptions, observeExtras, reportNotFound } from "../src/extras";
import { FLUSH_DELAY_MS, createTracker } from "../src/tracker";
import type { WireEvent } from "../src/types";
import { beaconFault } from "./wire";

// Every listener a test adds stays on the window (happy-dom has no way to reset them), so each
// test starts its tracker with only the options it exercises and reads only its own beacons.
function start(options: ExtrasOptions) {
  const sent: WireEvent[] = [];
  const tracker = createTracker({ siteId: "st_x" }, (_endpoint, body) => {
    const beacon = JSON.parse(body);
    expect(beaconFault(beacon)).toBeNull();
    sent.push(...beacon.events);
  });
  observeExtras(tracker, options);
  return { tracker, sent, of: (type: string) => sent.filter((e) => e.type === type) };
}

function setHidden(hidden: boolean) {
  Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
  Object.defineProperty(document, "visibilityState", { value: hidden ? "hidden" : "visible", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}

function link(href: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = href;
  a.innerHTML = "<span>go</span>";
  document.body.appendChild(a);
  // Keep happy-dom from navigating: the tracker only listens.
  a.addEventListener("click", (event) => event.preventDefault());
  return a;
}

beforeEach(() => {
  vi.useFakeTimers();
  window.happyDOM.setURL("https://example.com/post");
  Object.defineProperty(document, "hidden", { value: false, configurable: true });
});

afterEach(() => {
  vi.useRealTimers();
  setHidden(false);
  document.body.innerHTML = "";
});

describe("engagement", () => {
  it("sends the visible, active time and the deepest scroll when the page is hidden", () => {
    Object.defineProperty(document.documentElement, "scrollHeight", { value: 4000, configurable: true });
    const { of } = start({ engagement: true });
    vi.advanceTimersByTime(5_000);
    Object.defineProperty(window, "scrollY", { value: 3000 - window.innerHeight, configurable: true });
    window.dispatchEvent(new Event("scroll"));
    Object.defineProperty(window, "scrollY", { value: 0, configurable: true });
    window.dispatchEvent(new Event("scroll"));
    vi.advanceTimersByTime(7_000);
    setHidden(true);
    expect(of("engagement")).toEqual([
      { type: "engagement", url: "https://example.com/post", engagedMs: 12_000, scrollDepth: 75 },
    ]);
  });

  it("counts neither a hidden tab nor an idle visitor past IDLE_MS, and sends only new time", () => {
    Object.defineProperty(document.documentElement, "scrollHeight", { value: 0, configurable: true });
    const { of } = start({});
    vi.advanceTimersByTime(2_000);
    setHidden(true); // 2 s
    vi.advanceTimersByTime(60_000); // in a background tab: not counted
    setHidden(false);
    vi.advanceTimersByTime(IDLE_MS + 50_000); // idle after IDLE_MS
    setHidden(true);
    setHidden(true); // nothing new: nothing sent
    expect(of("engagement").map((e) => (e as { engagedMs: number }).engagedMs)).toEqual([2_000, IDLE_MS]);
  });

  it("sends the page left on a route change, then measures the new page", () => {
    const { of } = start({});
    vi.advanceTimersByTime(3_000);
    history.pushState({}, "", "/next");
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    setHidden(true);
    expect(of("engagement").map((e) => [e.url, (e as { engagedMs: number }).engagedMs])).toEqual([
      ["https://example.com/post", 3_000],
      ["https://example.com/next", FLUSH_DELAY_MS],
    ]);
  });

  it("is off with engagement: false", () => {
    const { sent } = start({ engagement: false });
    vi.advanceTimersByTime(3_000);
    setHidden(true);
    expect(sent.map((e) => e.type)).toEqual(["pageview"]);
  });
});

describe("links", () => {
  it("sends outbound clicks and downloads at once, without query string or fragment", () => {
    const { of } = start({ engagement: false, outboundLinks: true, fileDownloads: true });
    link("https://other.org/page?token=secret#x").querySelector("span")!.click();
    link("/files/report.PDF?v=2").click();
    link("/about").click(); // same host, not a file: nothing
    expect(of("event")).toEqual([
      { type: "event", name: OUTBOUND, url: "https://example.com/post", props: { url: "https://other.org/page" } },
      { type: "event", name: DOWNLOAD, url: "https://example.com/post", props: { url: "https://example.com/files/report.PDF" } },
    ]);
  });

  it("counts the site's own extensions only, and no outbound clicks unless asked", () => {
    const { of } = start({ engagement: false, fileDownloads: ["epub"] });
    link("/book.epub").click();
    link("/a.pdf").click();
    link("https://other.org/").click();
    expect(of("event").map((e) => (e as unknown as { props: { url: string } }).props.url)).toEqual(["https://example.com/book.epub"]);
  });
});

describe("errors and 404s", () => {
  it("reports uncaught errors with their script and line, never the query string", () => {
    const { of } = start({ engagement: false, trackErrors: true });
    const error = new ErrorEvent("error", {
      message: "TypeError: boom",
      filename: "https://example.com/app.js?user=42",
      lineno: 12,
      colno: 7,
    });
    window.dispatchEvent(error);
    const rejection = new Event("unhandledrejection") as Event & { reason: unknown };
    rejection.reason = new Error("x".repeat(MAX_MESSAGE_LENGTH + 10));
    window.dispatchEvent(rejection);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(of("error")).toEqual([
      { type: "error", message: "TypeError: boom", url: "https://example.com/post", source: "https://example.com/app.js:12:7" },
      { type: "error", message: "x".repeat(MAX_MESSAGE_LENGTH), url: "https://example.com/post" },
    ]);
  });

  it("reports a not-found page as the event 404 with its URL", () => {
    const { tracker, of } = start({ engagement: false });
    reportNotFound(tracker);
    vi.advanceTimersByTime(FLUSH_DELAY_MS);
    expect(of("event")).toEqual([
      { type: "event", name: "404", url: "https://example.com/post", props: { url: "https://example.com/post" } },
    ]);
  });
});
