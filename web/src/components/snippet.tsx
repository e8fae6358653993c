/** How to install the tracker for a site: a script tag, or npm with Next.js or React. */
import { useState } from "preact/hooks";
import { Tabs } from "./tabs";

export function Snippet({ siteId }: { siteId: string }) {
  const origin = location.origin;
  const variants: Record<string, string> = {
    "Script tag": `<script defer src="${origin}/script.js" data-site-id="${siteId}"></script>`,
    "Next.js": `npm install @traytic/analytics

// app/layout.tsx
import { Analytics } from "@traytic/analytics/next";

<Analytics siteId="${siteId}" endpoint="${origin}/collect" />`,
    React: `npm install @traytic/analytics

import { Analytics } from "@traytic/analytics/react";

<Analytics siteId="${siteId}" endpoint="${origin}/collect" />`,
  };
  const names = Object.keys(variants);
  const [tab, setTab] = useState(0);
  const [copied, setCopied] = useState(false);
  const code = variants[names[tab]];
  return (
    <div class="snippet">
      <Tabs label="How to install the tracker" tabs={names} selected={tab} onSelect={setTab}>
        <pre tabIndex={0} aria-label={`${names[tab]} snippet`}>
          <code>{code}</code>
        </pre>
      </Tabs>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard?.writeText(code).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          })
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
      <span class="sr-only" role="status">
        {copied ? "Copied to the clipboard" : ""}
      </span>
    </div>
  );
}
