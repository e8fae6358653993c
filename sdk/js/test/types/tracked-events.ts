// Compiled by `npm run typecheck:events` (tsconfig.events.json) on its own: the declaration
// below would narrow `track` for every other test file. Each @ts-expect-error must be an error.
import { track } from "../../src/index";

declare module "../../src/index" {
  interface TrackedEvents {
    signup: { plan: "free" | "pro" };
    download: { file: string; size?: number };
  }
}

track("signup", { plan: "pro" });
track("download", { file: "a.pdf" });
// @ts-expect-error an undeclared event
track("signin", { plan: "pro" });
// @ts-expect-error a prop value the declaration does not allow
track("signup", { plan: "enterprise" });
// @ts-expect-error a missing prop
track("download", { size: 3 });
