/**
 * `@traytic/analytics/astro`: an Astro integration. In `astro.config.mjs`:
 *
 *     import traytic from "@traytic/analytics/astro";
 *     export default defineConfig({ integrations: [traytic({ siteId: "st_..." })] });
 *
 * It adds a script to every page that starts the tracker, and counts a page view on each
 * `astro:page-load`, which Astro fires after the first load and after every view transition
 * (`<ClientRouter />`). Astro itself is not imported: the integration is a plain object.
 */

import type { InitOptions } from "./index";

/** The part of Astro's `astro:config:setup` hook options the integration uses. */
export interface ConfigSetup {
  injectScript(stage: "page", content: string): void;
}

export interface AstroIntegrationLike {
  name: string;
  hooks: { "astro:config:setup": (setup: ConfigSetup) => void };
}

/** The module the injected script imports (bundled by Astro like the site's own scripts). */
export const CLIENT_MODULE = "@traytic/analytics/astro/client";

export default function traytic(options: InitOptions): AstroIntegrationLike {
  return {
    name: "@traytic/analytics",
    hooks: {
      "astro:config:setup": ({ injectScript }) => {
        injectScript(
          "page",
          `import { start } from ${JSON.stringify(CLIENT_MODULE)};\nstart(${JSON.stringify(options)});`,
        );
      },
    },
  };
}
