"""Is a client address a server rather than a visitor? Hosting and cloud networks, from the
table the `iporigin` package ships (compiled from the providers' own published ranges and
community lists, rebuilt monthly; refresh it with `uv lock --upgrade-package iporigin`).

Only `hosting` (AWS, Google Cloud, Azure, Hetzner, OVH...) and `bot` (declared crawlers) count:
consumer VPNs, Apple Private Relay, Tor and CDN edges carry people, whose beacons we keep.
A lookup costs a few µs: `ClientFacts` remembers the verdict per address.
"""

from __future__ import annotations

import iporigin
import structlog

log = structlog.get_logger()

DROPPED_KINDS = frozenset({iporigin.HOSTING, iporigin.BOT})


class DatacenterRanges:
    """`address in ranges`: the address belongs to a hosting network or a declared crawler."""

    def load(self) -> dict[str, object]:
        """Read the table now (a blocking read of about 1 MB: run it in a thread at start-up)
        rather than on the first beacon; returns what it holds, for logs and metrics."""
        info = iporigin.dataset_info()  # type: ignore[no-untyped-call]
        return {"ranges": info["ranges"], "built_at": info["built_at"]}

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        try:
            return iporigin.classify(address).kind in DROPPED_KINDS  # type: ignore[no-untyped-call]
        except ValueError:  # "" when the client is unknown: nothing to judge by
            return False
