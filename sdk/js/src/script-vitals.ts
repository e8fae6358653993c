/** `script.vitals.js`: web-vitals for the plain script, which loads it after itself. */

import type { VitalName } from "./types";
import { observeVitals } from "./vitals";

const report = (window as unknown as { traytic?: { _v?: (name: VitalName, value: number) => void } })
  .traytic?._v;
if (report) observeVitals(report);
