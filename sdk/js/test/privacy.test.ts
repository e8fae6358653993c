import { describe, expect, it } from "vitest";
import { isLocalPage, wantsNoTracking } from "../src/privacy";

const nav = (fields: Record<string, unknown>) => fields as unknown as Navigator;
const win = (fields: Record<string, unknown> = {}) => fields as unknown as Window;
const loc = (href: string) => new URL(href) as unknown as Location;

describe("wantsNoTracking", () => {
  it.each([
    [{ doNotTrack: "1" }, {}],
    [{ doNotTrack: null }, { doNotTrack: "1" }],
    [{ msDoNotTrack: "1" }, {}],
    [{ msDoNotTrack: "yes" }, {}],
    [{ globalPrivacyControl: true }, {}],
  ])("is true for navigator %o, window %o", (n, w) => {
    expect(wantsNoTracking(nav(n), win(w))).toBe(true);
  });

  it.each([[{}], [{ doNotTrack: "0" }], [{ doNotTrack: "unspecified" }], [{ globalPrivacyControl: false }]])(
    "is false for navigator %o",
    (n) => {
      expect(wantsNoTracking(nav(n), win())).toBe(false);
    },
  );
});

describe("isLocalPage", () => {
  it.each([
    "http://localhost:3000/",
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/x",
    "http://[::1]:5173/",
    "http://app.localhost/",
    "file:///home/me/index.html",
  ])("%s is local", (href) => {
    expect(isLocalPage(loc(href))).toBe(true);
  });

  it.each(["https://example.com/", "http://192.168.1.10/", "https://localhost.example.com/", "https://127.example/"])(
    "%s is not local",
    (href) => {
      expect(isLocalPage(loc(href))).toBe(false);
    },
  );
});
