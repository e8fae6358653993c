import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { _resetForTests, flush, init, pageview, track } from "../src/index";

let sendBeacon: ReturnType<typeof vi.fn>;
const bodies = () => sendBeacon.mock.calls.map(([, body]) => JSON.parse(body as string));

beforeEach(() => {
  _resetForTests();
  window.happyDOM.setURL("https://example.com/");
  sendBeacon = vi.fn(() => true);
  Object.defineProperty(navigator, "sendBeacon", { value: sendBeacon, configurable: true });
});

afterEach(() => {
  _resetForTests();
});

describe("the page's tracker", () => {
  it("keeps calls made before init and sends them after", () => {
    track("early", { step: 1 });
    pageview();
    expect(sendBeacon).not.toHaveBeenCalled();
    init({ siteId: "st_1", endpoint: "https://s.example/collect", vitals: false });
    flush();
    expect(sendBeacon).toHaveBeenCalledTimes(1);
    expect(sendBeacon.mock.calls[0]![0]).toBe("https://s.example/collect");
    expect(bodies()[0].events).toEqual([
      { type: "pageview", url: "https://example.com/" },
      { type: "event", name: "early", url: "https://example.com/", props: { step: 1 } },
    ]);
  });

  it("ignores a second init", () => {
    init({ siteId: "st_1", vitals: false });
    init({ siteId: "st_2", vitals: false });
    track("x");
    flush();
    expect(bodies().map((b) => b.siteId)).toEqual(["st_1"]);
  });
});
