"""Revenue in the site's reporting currency: amounts are stored as sent (millionths of the
currency they were paid in) and converted when read, with the exchange rates the query service
loaded (a file or a provider URL; see `traytic.query.rates`). A currency without a rate counts
0 and is named in the answer, so a missing rate is visible rather than silently wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from traytic.core.revenue import MICROS


@dataclass(frozen=True, slots=True)
class Conversion:
    """How to turn each stored currency into `currency`: `factors[code]` units of `currency`
    per unit of `code` (1 for `currency` itself)."""

    currency: str = "USD"
    factors: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, currency: str, rates: Mapping[str, float]) -> Conversion:
        """From rates against any one base (`rates[code]` units of code per unit of base, as
        exchange-rate providers publish them). Without a rate for `currency` itself only
        `currency` converts (to itself)."""
        target = rates.get(currency)
        if not target:
            return cls(currency, {currency: 1.0})
        factors = {code: target / rate for code, rate in rates.items() if rate > 0}
        factors[currency] = 1.0
        return cls(currency, factors)

    def sql(self, prefix: str = "rate") -> tuple[str, dict[str, Any]]:
        """`revenue` (in `currency`, Float64) of an events row, and the params it binds;
        `{prefix}_known` is true for a row whose currency has a rate (or no revenue)."""
        # Never an empty array: 18.16 types `[]` as Array(Nothing), which `has` refuses.
        codes = sorted(self.factors) or [""]
        params: dict[str, Any] = {
            f"{prefix}_codes": codes,
            f"{prefix}_factors": [float(self.factors.get(code, 0.0)) for code in codes],
        }
        amount = (
            f"revenue_micros / {MICROS}.0 * transform(revenue_currency,"
            f" {{{prefix}_codes}}, {{{prefix}_factors}}, 0.)"
        )
        return amount, params

    def known_sql(self, prefix: str = "rate") -> str:
        return f"(revenue_currency = '' OR has({{{prefix}_codes}}, revenue_currency))"
