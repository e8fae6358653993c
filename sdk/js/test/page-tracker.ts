/**
 * Set-up shared by the tests of the page's tracker (`init`, the framework adapters): a fresh
 * tracker and page URL per test, and `navigator.sendBeacon` recorded.
 */
import { afterEach, beforeEach, vi } from "vitest";
import { _resetForTests } from "../src/index";

export interface SentEvent {
  type: string;
  url: string;
  [field: string]: unknown;
}

/** Registers the hooks; the returned functions read what the current test sent. */
export function recordBeacons() {
  let sendBeacon = vi.fn((_url: string, _body: string) => true);
  beforeEach(() => {
    _resetForTests();
    window.happyDOM.setURL("https://example.com/");
    sendBeacon = vi.fn((_url: string, _body: string) => true);
    Object.defineProperty(navigator, "sendBeacon", { value: sendBeacon, configurable: true });
  });
  afterEach(() => {
    _resetForTests();
  });
  const bodies = () => sendBeacon.mock.calls.map(([, body]) => JSON.parse(body));
  return {
    sendBeacon: () => sendBeacon,
    bodies,
    events: (): SentEvent[] => bodies().flatMap((body) => body.events),
    pageviews: (): string[] => bodies().flatMap((body) => body.events).filter((e: SentEvent) => e.type === "pageview").map((e: SentEvent) => e.url),
  };
}
