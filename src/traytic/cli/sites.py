"""`traytic site create|list|delete`: the registry the gateway watches, until the query service
owns sites (it keeps the same bucket in sync)."""

from __future__ import annotations

import argparse

from traytic.core import bus
from traytic.core.settings import load_settings
from traytic.core.sites import SITE_DECODER, create_site, delete_site


async def run_site_command(args: argparse.Namespace) -> int:
    settings = load_settings(bus.BusSettings)
    nc = await bus.connect(settings, name="traytic-cli")
    try:
        kv = await bus.ensure_sites_bucket(nc.jetstream(), settings)
        if args.site_command == "create":
            record = await create_site(kv, args.domain, site_id=args.site_id)
            print(record.site_id)
        elif args.site_command == "list":
            try:
                keys = await kv.keys()
            except Exception:  # nats raises NoKeysError for an empty bucket
                keys = []
            for key in sorted(keys):
                entry = await kv.get(key)
                if entry.value:
                    record = SITE_DECODER.decode(entry.value)
                    print(f"{record.site_id}\t{record.domain}")
        elif args.site_command == "delete":
            await delete_site(kv, args.site_id)
    finally:
        await nc.close()
    return 0
