import { act } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { _resetForTests, flush, track } from "../src/index";
import { Analytics as NextAnalytics } from "../src/next";
import { Analytics as ReactAnalytics } from "../src/react";

const route = { pathname: "/", search: "" };
vi.mock("next/navigation", () => ({
  usePathname: () => route.pathname,
  useSearchParams: () => new URLSearchParams(route.search),
}));

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let sendBeacon: ReturnType<typeof vi.fn>;
const events = () =>
  sendBeacon.mock.calls.flatMap(([, body]) => JSON.parse(body as string).events as { type: string; url: string }[]);

beforeEach(() => {
  _resetForTests();
  window.happyDOM.setURL("https://example.com/");
  sendBeacon = vi.fn(() => true);
  Object.defineProperty(navigator, "sendBeacon", { value: sendBeacon, configurable: true });
});

afterEach(() => {
  _resetForTests();
});

describe("<Analytics /> from /react", () => {
  it("starts the tracker the core's track() uses, and renders nothing", async () => {
    const container = document.createElement("div");
    const root = createRoot(container);
    await act(async () => root.render(<ReactAnalytics siteId="st_react" vitals={false} />));
    track("signup", { plan: "pro" });
    flush();
    expect(container.innerHTML).toBe("");
    expect(events()).toEqual([
      { type: "pageview", url: "https://example.com/" },
      { type: "event", name: "signup", url: "https://example.com/", props: { plan: "pro" } },
    ]);
    await act(async () => root.unmount());
  });
});

describe("<Analytics /> from /next", () => {
  it("counts a page view on each App Router route change, once", async () => {
    const root = createRoot(document.createElement("div"));
    await act(async () => root.render(<NextAnalytics siteId="st_next" vitals={false} />));
    window.happyDOM.setURL("https://example.com/blog?page=2");
    Object.assign(route, { pathname: "/blog", search: "page=2" });
    await act(async () => root.render(<NextAnalytics siteId="st_next" vitals={false} />));
    flush();
    // Engagement (on by default) adds the page left on the route change; page views count once.
    const pageviews = events().filter((e) => e.type === "pageview");
    expect(pageviews.map((e) => e.url)).toEqual(["https://example.com/", "https://example.com/blog?page=2"]);
    await act(async () => root.unmount());
  });
});
