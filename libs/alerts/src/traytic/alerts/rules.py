"""When an alert fires (pure): the condition of each kind, and one message per crossing.

A crossing is the condition turning true. It sends one message unless the alert sent one within
its cool-down; while the condition stays true nothing more is sent, and once it clears the next
crossing may send again. So a spike that flickers around the threshold sends one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from traytic.alerts.figures import DayToDate


@dataclass(frozen=True, slots=True)
class Verdict:
    fire: bool
    """Send a message now."""
    firing: bool
    """The condition holds (kept on the alert, so the same crossing does not send again)."""


def decide(
    condition: bool,
    *,
    was_firing: bool,
    last_fired_at: datetime | None,
    cooldown: timedelta,
    now: datetime,
) -> Verdict:
    if not condition:
        return Verdict(fire=False, firing=False)
    if was_firing:
        return Verdict(fire=False, firing=True)
    cooling = last_fired_at is not None and now - last_fired_at < cooldown
    return Verdict(fire=not cooling, firing=True)


def spike_condition(visitors: int, threshold: float) -> bool:
    """More visitors at once than the threshold."""
    return visitors > threshold


def drop_condition(figures: DayToDate, share: float, *, min_usual: float, min_hours: int) -> bool:
    """Today so far below `share` of the usual level for this weekday and these hours; never
    judged early in the day, nor against a usual level too small to mean anything."""
    if figures.hours < min_hours or not figures.previous or figures.usual < min_usual:
        return False
    return figures.today < share * figures.usual


def goal_condition(conversions: int, threshold: float, *, below: bool) -> bool:
    """A goal's conversions in the window reached the threshold (or, `below`, fell under it)."""
    return conversions < threshold if below else conversions >= threshold
