"""Revenue on custom events: the ISO 4217 currencies a beacon may name and the amount as the
warehouse stores it, in millionths of the currency's unit (exact for every currency's minor
units; sums stay exact far past any shop's turnover). The gateway validates with these and the
consumer converts with them, so both read an amount the same way."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

MICROS = 1_000_000
MAX_AMOUNT = 10**12
"""Amounts from 0 up to this (a trillion units), so micros fit Int64 with room to sum."""

CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table of codes reads better than 156 quoted strings
)
"""Active ISO 4217 codes of money (no metals, funds or test codes)."""


def normalise_currency(code: str) -> str:
    """`code` upper-cased if it is an ISO 4217 currency; raises `ValueError` otherwise."""
    upper = code.strip().upper()
    if upper not in CURRENCIES:
        raise ValueError(f"{code[:8]!r} is not an ISO 4217 currency code")
    return upper


def amount_micros(amount: float | int | str) -> int:
    """The amount in millionths (rounded half to even past the sixth decimal, which also
    absorbs a float's `0.1 + 0.2` noise); raises `ValueError` when it is not a finite number
    from 0 to `MAX_AMOUNT`."""
    if isinstance(amount, bool):
        raise ValueError("amount must be a number")
    try:
        value = Decimal(repr(amount) if isinstance(amount, float) else str(amount).strip())
    except InvalidOperation as exc:
        raise ValueError("amount must be a number like 29.99") from exc
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount must be a number from 0 to {MAX_AMOUNT}")
    return int((value * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
