// The README's first-party set-up: /collect and /script.js proxied to TRAYTIC_HOST.
import type { NextConfig } from "next";
import { withTraytic } from "@traytic/analytics/next/config";

const nextConfig: NextConfig = {};

export default withTraytic(nextConfig);
