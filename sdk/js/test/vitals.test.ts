import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { VitalName } from "../src/types";
import { observeVitals } from "../src/vitals";

/**
 * The browser's performance timeline, played by hand: entries are queued with `add()` and either
 * delivered to the observer's callback (`deliver()`) or left for `takeRecords()`, which the
 * vitals code calls on input and on hide. The real timeline is exercised by the browser tests.
 */
class FakeObserver {
  static last: FakeObserver | undefined;
  types: string[] = [];
  thresholds: (number | undefined)[] = [];
  pending: PerformanceEntry[] = [];
  constructor(private readonly callback: (list: { getEntries(): PerformanceEntry[] }) => void) {
    FakeObserver.last = this;
  }
  observe(init: PerformanceObserverInit & { durationThreshold?: number }): void {
    this.types.push(init.type as string);
    this.thresholds.push(init.durationThreshold);
  }
  takeRecords(): PerformanceEntry[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
  add(entryType: string, startTime: number, fields: Record<string, unknown> = {}): this {
    this.pending.push({ entryType, startTime, name: "", duration: 0, ...fields } as unknown as PerformanceEntry);
    return this;
  }
  deliver(): void {
    const entries = this.takeRecords();
    this.callback({ getEntries: () => entries });
  }
}

const observer = (): FakeObserver => FakeObserver.last as FakeObserver;
let timeline: Record<string, object[]>;
let reports: [VitalName, number][];
let listeners: [string, EventListenerOrEventListenerObject, boolean | AddEventListenerOptions | undefined][];
const report = (name: VitalName, value: number) => reports.push([name, value]);
const reported = () => Object.fromEntries(reports);

function setVisibility(state: "hidden" | "visible"): void {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
}

function hide(timeStamp = 10_000): void {
  setVisibility("hidden");
  const event = new Event("visibilitychange");
  Object.defineProperty(event, "timeStamp", { value: timeStamp });
  document.dispatchEvent(event);
  setVisibility("visible");
}

function trustedClick(): void {
  const event = new Event("click");
  Object.defineProperty(event, "isTrusted", { value: true });
  document.body.dispatchEvent(event);
}

/** A paint, one LCP candidate and the navigation's response: a loaded, unshifted page. */
function loadedPage(): FakeObserver {
  return observer()
    .add("paint", 300, { name: "first-paint" })
    .add("paint", 320, { name: "first-contentful-paint" })
    .add("largest-contentful-paint", 700);
}

beforeEach(() => {
  FakeObserver.last = undefined;
  reports = [];
  listeners = [];
  timeline = { navigation: [{ responseStart: 120, activationStart: 0 }] };
  vi.stubGlobal("PerformanceObserver", FakeObserver);
  vi.spyOn(performance, "getEntriesByType").mockImplementation(
    (type: string) => (timeline[type] || []) as PerformanceEntryList,
  );
  const add = window.addEventListener.bind(window);
  vi.spyOn(window, "addEventListener").mockImplementation((type, listener, options) => {
    listeners.push([type, listener!, options]);
    add(type, listener, options);
  });
  setVisibility("visible");
});

afterEach(() => {
  for (const [type, listener, options] of listeners) window.removeEventListener(type, listener, options);
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  delete (document as { prerendering?: boolean }).prerendering;
  delete (performance as { interactionCount?: number }).interactionCount;
});

describe("observeVitals", () => {
  it("observes the five entry types, buffered, with event timing from 40 ms", () => {
    observeVitals(report);
    expect(observer().types).toEqual(["paint", "largest-contentful-paint", "layout-shift", "event", "first-input"]);
    expect(new Set(observer().thresholds)).toEqual(new Set([40]));
    // Listeners are removed after each test, so one test's page cannot report into the next.
    expect(listeners.map(([type]) => type).sort()).toEqual(["click", "keydown", "pageshow", "visibilitychange"]);
  });

  it("reports FCP, LCP, TTFB and CLS once, when the page is first hidden", () => {
    observeVitals(report);
    loadedPage().deliver();
    expect(reports).toEqual([]);

    hide();
    expect(reports).toEqual([
      ["FCP", 320],
      ["LCP", 700],
      ["TTFB", 120],
      ["CLS", 0],
    ]);

    observer().add("layout-shift", 12_000, { value: 0.3 }).add("event", 12_100, { interactionId: 7, duration: 80 });
    hide(13_000);
    // INP had no value at the first hide, so it is reported now; the others were final.
    expect(reports.slice(4)).toEqual([["INP", 80]]);
    hide(14_000);
    expect(reports).toHaveLength(5);
  });

  it("reads entries the observer has not delivered yet when the page is hidden", () => {
    observeVitals(report);
    loadedPage().add("event", 900, { interactionId: 14, duration: 200 }); // not delivered
    hide();
    expect(reported()).toMatchObject({ LCP: 700, INP: 200 });
  });

  it("keeps the last LCP candidate before the first trusted input", () => {
    observeVitals(report);
    loadedPage().deliver();
    observer().add("largest-contentful-paint", 900).deliver();
    document.body.dispatchEvent(new Event("click")); // a script's click, not the visitor's
    observer().add("largest-contentful-paint", 1000);
    trustedClick(); // takes the pending 1000 first
    observer().add("largest-contentful-paint", 2000).deliver();
    hide();
    expect(reported().LCP).toBe(1000);
  });

  it("ignores paints after the page was first hidden, also before this script loaded", () => {
    timeline["visibility-state"] = [
      { name: "visible", startTime: 0 },
      { name: "hidden", startTime: 500 },
    ];
    observeVitals(report);
    loadedPage().add("paint", 600, { name: "first-contentful-paint" }).deliver(); // FCP 320 stands
    hide();
    expect(reported()).toEqual({ FCP: 320, TTFB: 120, CLS: 0 });
  });

  it("reports no CLS for a page that never painted, and no TTFB without a response time", () => {
    timeline.navigation = [{ responseStart: 0 }];
    observeVitals(report);
    observer().add("layout-shift", 100, { value: 0.2 }).deliver();
    hide();
    expect(reports).toEqual([]);
  });

  it("takes CLS as the largest session window: gaps under 1 s, at most 5 s long", () => {
    observeVitals(report);
    loadedPage()
      .add("layout-shift", 1000, { value: 0.1 })
      .add("layout-shift", 1900, { value: 0.1 })
      .add("layout-shift", 2800, { value: 0.1 }) // window 1: 0.3
      .add("layout-shift", 4000, { value: 0.2 }) // 1.2 s gap: window 2 starts
      .add("layout-shift", 4500, { value: 0.5, hadRecentInput: true }) // after an input: ignored
      .add("layout-shift", 4900, { value: 0.05 })
      .deliver();
    // Window 3 runs 10 s..15 s; the shift at 15.2 s is under 1 s after the last but would
    // make the window longer than 5 s, so it starts window 4.
    for (let time = 10_000; time <= 14_900; time += 700) observer().add("layout-shift", time, { value: 0.05 });
    observer().add("layout-shift", 15_200, { value: 0.05 }).deliver();
    hide(20_000);
    expect(reported().CLS).toBeCloseTo(0.4); // window 3: 8 shifts of 0.05
  });

  it("takes INP as the worst interaction, skipping one for every 50 interactions", () => {
    observeVitals(report);
    loadedPage()
      // One interaction's entries (pointerdown, pointerup, click) share its id: the longest counts.
      .add("first-input", 1000, { interactionId: 700, duration: 16 })
      .add("event", 1000, { interactionId: 700, duration: 16 })
      .add("event", 1050, { interactionId: 700, duration: 48 })
      .add("event", 2000, { interactionId: 707, duration: 300 })
      .add("event", 3000, { interactionId: 714, duration: 120 })
      .deliver();
    hide();
    expect(reported().INP).toBe(300); // 3 interactions: the worst

    // 120 interactions (ids 7 apart, as Chromium numbers them): the 3rd worst, skipping 2.
    const page = vi.fn();
    FakeObserver.last = undefined;
    observeVitals(page);
    loadedPage()
      .add("first-input", 1000, { interactionId: 7, duration: 8 })
      .add("event", 2000, { interactionId: 7 * 50, duration: 400 })
      .add("event", 3000, { interactionId: 7 * 60, duration: 300 })
      .add("event", 4000, { interactionId: 7 * 70, duration: 200 })
      .add("event", 5000, { interactionId: 7 * 120, duration: 100 })
      .deliver();
    hide();
    expect(page).toHaveBeenCalledWith("INP", 200);
  });

  it("uses performance.interactionCount where the browser has it", () => {
    Object.defineProperty(performance, "interactionCount", { value: 100, configurable: true });
    observeVitals(report);
    loadedPage()
      .add("event", 2000, { interactionId: 1, duration: 400 })
      .add("event", 3000, { interactionId: 2, duration: 300 })
      .add("event", 4000, { interactionId: 3, duration: 200 })
      .deliver();
    hide();
    expect(reported().INP).toBe(200);
  });

  it("measures from activation on a prerendered page, once the visitor opens it", () => {
    Object.defineProperty(document, "prerendering", { value: true, configurable: true });
    timeline.navigation = [{ responseStart: 120, activationStart: 5000 }];
    observeVitals(report);
    expect(FakeObserver.last).toBeUndefined();

    window.dispatchEvent(new Event("prerenderingchange"));
    loadedPage().add("largest-contentful-paint", 5600).deliver();
    hide(20_000);
    // Painted while prerendering: 0 from the visitor's point of view.
    expect(reported()).toEqual({ FCP: 0, LCP: 600, TTFB: 0, CLS: 0 });
  });

  it("starts a new page view on a back/forward cache restore", async () => {
    observeVitals(report);
    loadedPage()
      .add("layout-shift", 1000, { value: 0.2 })
      .add("event", 2000, { interactionId: 7, duration: 90 })
      .deliver();
    hide();
    expect(reports).toHaveLength(5);

    vi.spyOn(performance, "now").mockReturnValue(30_050);
    const restore = new Event("pageshow");
    Object.defineProperty(restore, "persisted", { value: true });
    Object.defineProperty(restore, "timeStamp", { value: 30_000 });
    window.dispatchEvent(restore);
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done))));

    hide(40_000);
    expect(reports.slice(5)).toEqual([
      ["FCP", 50],
      ["LCP", 50],
      ["TTFB", 0],
      ["CLS", 0],
    ]);
  });
});
