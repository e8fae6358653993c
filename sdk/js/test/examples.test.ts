import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Beacon, WireEvent } from "../src/types";
import { beaconFault } from "./wire";

const examples = join(__dirname, "..", "examples");
const read = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));
const files = (dir: string): string[] =>
  readdirSync(join(examples, dir)).filter((name) => name.endsWith(".json"));
const faults = read(join(examples, "faults.json")) as Record<string, string>;

describe("shared example beacons", () => {
  it.each(files("valid"))("valid/%s matches the wire types", (name) => {
    expect(beaconFault(read(join(examples, "valid", name)))).toBeNull();
  });

  it.each(files("invalid"))("invalid/%s is rejected for the field faults.json names", (name) => {
    expect(faults[name]).toBeDefined();
    expect(beaconFault(read(join(examples, "invalid", name)))).toBe(faults[name]);
  });

  it("faults.json lists exactly the invalid examples", () => {
    expect(Object.keys(faults).sort()).toEqual(files("invalid").sort());
  });

  it("the contract example type-checks as a Beacon literal", () => {
    // Compile-time half of the mirror: this literal must satisfy the exported types.
    const events: WireEvent[] = [
      { type: "pageview", url: "https://x.com/blog/hello", referrer: "https://google.com/" },
      { type: "event", name: "signup", url: "https://x.com/", props: { plan: "pro" } },
      { type: "vital", name: "LCP", value: 1830.5, url: "https://x.com/blog/hello" },
      { type: "error", message: "TypeError: x is undefined", url: "https://x.com/" },
    ];
    const beacon: Beacon = { siteId: "st_9f2c1a", screen: 1440, events };
    expect(beacon).toEqual(read(join(examples, "valid", "contract.json")));
  });
});
