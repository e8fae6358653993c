"""How numbers read in messages: thousands separators, signed changes, shares, durations."""

from __future__ import annotations

from datetime import date


def integer(value: float) -> str:
    return f"{round(value):,}"


def percent(share: float) -> str:
    return f"{share:.0%}"


def change(value: float, previous: float) -> str:
    """`+12%`, `-5%`, `no change`, or `new` when there was nothing before."""
    if previous == 0:
        return "no change" if value == 0 else "new"
    delta = (value - previous) / previous
    if round(delta * 100) == 0:
        return "no change"
    return f"{delta:+.0%}"


def duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def period_label(first: date, last: date) -> str:
    """`3 to 9 March 2025`, `28 February to 6 March 2025`, `1 to 31 March 2025`."""
    if first.year != last.year:
        return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"{first.day} to {last.day} {last:%B %Y}"


def money(amount: float, currency: str) -> str:
    """`1,234.50 EUR`: the code rather than a symbol, which several currencies share."""
    return f"{amount:,.2f} {currency}"
