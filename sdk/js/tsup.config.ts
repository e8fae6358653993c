import { defineConfig } from "tsup";

// The npm package. `splitting` gives every entry the same core chunk, so `track` from
// `@traytic/analytics` and `<Analytics />` from `/next` share one tracker, and keeps the vitals
// observer in its own chunk that only loads when vitals are on. The plain script.js is built by
// scripts/build-scripts.mjs, which also marks the React and Next.js entries as client components.
export default defineConfig({
  entry: {
    index: "src/index.ts",
    react: "src/react.tsx",
    next: "src/next.tsx",
    "next-config": "src/next-config.ts",
    vue: "src/vue.ts",
    svelte: "src/svelte.ts",
    astro: "src/astro.ts",
    "astro-client": "src/astro-client.ts",
  },
  format: ["esm", "cjs"],
  dts: true,
  splitting: true,
  treeshake: true,
  clean: true,
  target: "es2019",
  external: ["react", "next"],
});
