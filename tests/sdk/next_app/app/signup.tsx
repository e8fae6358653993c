"use client";
// The brief's custom event: `track` from the core entry shares the tracker <Analytics /> started.
import { track } from "@traytic/analytics";

export function Signup() {
  return (
    <button type="button" onClick={() => track("signup", { plan: "pro", source: "landing" })}>
      Sign up
    </button>
  );
}
