// Builds the dashboard into dist/: hashed files in dist/assets, and an index.html naming them.
// Fails when the JavaScript is over budget (100 KB gzipped).
import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const BUDGET_JS_GZIP = 100 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(root, "src/main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
});

let scripts = "";
let styles = "";
let jsGzip = 0;
for (const [file] of Object.entries(result.metafile.outputs)) {
  const name = basename(file);
  const size = gzipSync(readFileSync(join(root, file))).length;
  if (name.endsWith(".js")) {
    jsGzip += size;
    scripts += `<script type="module" src="/assets/${name}"></script>`;
  } else if (name.endsWith(".css")) {
    styles += `<link rel="stylesheet" href="/assets/${name}" />`;
  }
  console.log(`  ${name.padEnd(32)} ${(size / 1024).toFixed(1)} KB gzipped`);
}
const html = readFileSync(join(root, "index.html"), "utf8")
  .replace("<!--styles-->", styles)
  .replace("<!--scripts-->", scripts);
writeFileSync(join(dist, "index.html"), html);

console.log(`  JavaScript: ${(jsGzip / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_JS_GZIP / 1024} KB)`);
if (jsGzip > BUDGET_JS_GZIP) {
  console.error("the dashboard's JavaScript is over budget");
  process.exit(1);
}
