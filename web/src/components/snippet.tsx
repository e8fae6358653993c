/** How to install the tracker for a site: a script tag, or npm with Next.js or React. */
import { useState } from "preact/hooks";

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
  const [tab, setTab] = useState("Script tag");
  const [copied, setCopied] = useState(false);
  const code = variants[tab];
  return (
    <div class="snippet">
      <div class="tabs" role="tablist">
        {Object.keys(variants).map((name) => (
          <button role="tab" aria-selected={name === tab} onClick={() => setTab(name)}>
            {name}
          </button>
        ))}
      </div>
      <pre>
        <code>{code}</code>
      </pre>
      <button
        onClick={() =>
          navigator.clipboard?.writeText(code).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          })
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
