// Second half of `npm run build`, after tsup has written the npm package to dist/:
//   1. marks dist/react.* and dist/next.* as client components ("use client"; esbuild drops the
//      directive when bundling, and the core entry must stay callable from server code);
//   2. builds the plain scripts the gateway serves:
//        dist/script.js         the tracker; loads script.vitals.js from beside itself
//        dist/script.vitals.js  Web Vitals (src/vitals.ts), reported through window.traytic
//   3. fails when a budget of the issue is exceeded (gzip -9, in bytes; 1 KB read as 1000 B, the
//      stricter reading): script.js alone, and script.js + script.vitals.js, which is what a page
//      with vitals loads.
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const WITHOUT_VITALS_BUDGET = 1500;
const WITH_VITALS_BUDGET = 2500;

for (const entry of ["react", "next"]) {
  for (const ext of ["js", "cjs"]) {
    const file = `dist/${entry}.${ext}`;
    const code = readFileSync(file, "utf8");
    if (!code.startsWith('"use client"')) writeFileSync(file, `"use client";\n${code}`);
  }
}

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  legalComments: "none",
  logLevel: "warning",
};
await build({ ...common, entryPoints: ["src/script.ts"], outfile: "dist/script.js" });
await build({ ...common, entryPoints: ["src/script-vitals.ts"], outfile: "dist/script.vitals.js" });

const gzipped = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const core = gzipped("dist/script.js");
const vitals = gzipped("dist/script.vitals.js");
const rows = [
  ["script.js (without vitals)", core, WITHOUT_VITALS_BUDGET],
  ["script.vitals.js", vitals, undefined],
  ["script.js + script.vitals.js", core + vitals, WITH_VITALS_BUDGET],
];
let over = false;
for (const [what, size, budget] of rows) {
  const ok = budget === undefined || size <= budget;
  over ||= !ok;
  const verdict = budget === undefined ? "" : ` (budget ${budget} B) ${ok ? "ok" : "OVER"}`;
  console.log(`${what.padEnd(30)} ${String(size).padStart(5)} B gzipped${verdict}`);
}
if (over) {
  console.error("size budget exceeded (see the Size section of sdk/js/README.md)");
  process.exit(1);
}
