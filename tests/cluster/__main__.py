"""`make cluster`: start the cluster topology (tests/cluster/topology.py) and keep it running
until Ctrl-C, then stop every process it started.

    python -m tests.cluster [--single] [--root .traytic/cluster]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import threading
from pathlib import Path

from tests.cluster.topology import CLUSTER, SINGLE, Cluster


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    parser.add_argument("--single", action="store_true", help="one of each instead")
    parser.add_argument("--root", type=Path, default=Path(".traytic/cluster"))
    args = parser.parse_args()
    shutil.rmtree(args.root, ignore_errors=True)  # a fresh install each time
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"starting the {'single-node' if args.single else 'cluster'} install in {args.root} ...")
    with Cluster(args.root, SINGLE if args.single else CLUSTER) as cluster:
        print(json.dumps(cluster.describe(), indent=2))
        print(f"(also in {args.root / 'cluster.json'}); Ctrl-C stops everything")
        stop.wait()
        print("stopping ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
