import { afterEach, describe, expect, it } from "vitest";
import { trayticRewrites, withTraytic } from "../src/next-config";

const HOST = "https://analytics.example.com";
const ours = [
  { source: "/collect", destination: `${HOST}/collect` },
  { source: "/script.js", destination: `${HOST}/script.js` },
  { source: "/script.vitals.js", destination: `${HOST}/script.vitals.js` },
  { source: "/script.extras.js", destination: `${HOST}/script.extras.js` },
];

afterEach(() => {
  delete process.env.TRAYTIC_HOST;
  delete process.env.NEXT_PUBLIC_TRAYTIC_HOST;
});

describe("withTraytic", () => {
  it("proxies /collect and the tracker before the app's own routes, keeping the rest", async () => {
    const config = withTraytic({ reactStrictMode: true }, { host: `${HOST}/` });
    expect(config.reactStrictMode).toBe(true);
    expect(await config.rewrites?.()).toEqual({ beforeFiles: ours, afterFiles: [], fallback: [] });
  });

  it("keeps the app's rewrites, an array or the three phases", async () => {
    const mine = { source: "/old", destination: "/new" };
    const asArray = withTraytic({ rewrites: async () => [mine] }, { host: HOST });
    expect(await asArray.rewrites?.()).toEqual({
      beforeFiles: ours,
      afterFiles: [mine],
      fallback: [],
    });
    const phased = withTraytic(
      { rewrites: () => ({ beforeFiles: [mine], fallback: [mine] }) },
      { host: HOST },
    );
    expect(await phased.rewrites?.()).toEqual({ beforeFiles: [...ours, mine], fallback: [mine] });
  });

  it("wraps a config function", async () => {
    const wrapped = withTraytic(async (phase: string) => ({ env: { phase } }), { host: HOST });
    const defaultConfig = { env: { phase: "" } };
    const config = await wrapped("phase-production-build", { defaultConfig });
    expect(config.env).toEqual({ phase: "phase-production-build" });
    expect(await config.rewrites?.()).toMatchObject({ beforeFiles: ours });
  });

  it("reads the host from TRAYTIC_HOST, then NEXT_PUBLIC_TRAYTIC_HOST", () => {
    process.env.NEXT_PUBLIC_TRAYTIC_HOST = "https://public.example.com";
    expect(trayticRewrites()[0].destination).toBe("https://public.example.com/collect");
    process.env.TRAYTIC_HOST = "http://10.0.0.5:3001";
    expect(trayticRewrites()[0].destination).toBe("http://10.0.0.5:3001/collect");
  });

  it("fails at build time without a usable host", () => {
    expect(() => withTraytic({})).toThrow(/TRAYTIC_HOST/);
    expect(() => withTraytic({}, { host: "analytics.example.com" })).toThrow(/absolute/);
    expect(() => withTraytic({}, { host: "ftp://analytics.example.com" })).toThrow(/http/);
  });

  it("serves the tracker under another path, with the vitals beside it", () => {
    const rewrites = trayticRewrites({ host: HOST, collectPath: "/p/e", scriptPath: "/p/s.js" });
    expect(rewrites.map((r) => r.source)).toEqual(["/p/e", "/p/s.js", "/p/script.vitals.js", "/p/script.extras.js"]);
    expect(rewrites.map((r) => r.destination)).toEqual(ours.map((r) => r.destination));
  });
});
