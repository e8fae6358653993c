/** `script.vitals.js`: Web Vitals for the plain script, which loads it after itself. */

import type { VitalName } from "./types";
import { observeVitals } from "./vitals";

const traytic = (window as unknown as { traytic?: { _v?: (name: VitalName, value: number) => void } }).traytic;
if (traytic && traytic._v) observeVitals(traytic._v);
