"""GeoIP for the embedded mode: MaxMind's MIT-licensed City test database (see README.md).

`traytic dev` locates visitors with it unless `TRAYTIC_GEOIP_PATH` names a real database: a
handful of networks resolve to a city (London, Linköping, San Diego...), so the demo traffic has
cities, and every other address falls back to iptocc's country, as without a database.
"""

from __future__ import annotations

from pathlib import Path

TEST_CITY_DB = Path(__file__).resolve().parent / "GeoLite2-City-Test.mmdb"


def dev_geoip_path() -> str:
    """The database `traytic dev` locates visitors with: the operator's, else the test one."""
    from traytic.consumer.settings import ConsumerSettings
    from traytic.core.settings import load_settings

    return load_settings(ConsumerSettings).geoip_path or str(TEST_CITY_DB)
