"""The small chart in report emails: visitors per day as bars, drawn on the server as a PNG.

Mail clients run no scripts and many block remote images, so the chart travels inside the
message (an inline part the HTML shows by `cid:`). Pillow draws it: a kept library that
needs no browser or system fonts (its default font is bundled), which a chart this simple
does not need either.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 320
"""Drawn at twice the size the email shows it (600 x 160), for sharp high-density screens."""
ACCENT = (79, 70, 229)
GRID = (228, 228, 232)
MUTED = (107, 107, 118)
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 90, 20, 20, 56


def _nice_top(peak: int) -> int:
    """A round number at or above `peak` for the top grid line."""
    if peak <= 5:
        return max(2, peak + peak % 2)  # even, so the middle line is a whole number
    magnitude = 10 ** (len(str(peak)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= peak:
            return top
    return peak


def bar_chart(values: list[int], labels: list[str]) -> bytes:
    """A PNG of `values` as bars, the first and last `labels` under the axis."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    top = _nice_top(max(values, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for fraction in (0.0, 0.5, 1.0):
        y = PAD_TOP + plot_h * (1 - fraction)
        draw.line([(PAD_LEFT, y), (WIDTH - PAD_RIGHT, y)], fill=GRID, width=2)
        label = f"{top * fraction:,.0f}"
        draw.text((PAD_LEFT - 12, y), label, fill=MUTED, font=font, anchor="rm")
    if values:
        slot = plot_w / len(values)
        gap = max(2.0, slot * 0.2)
        for index, value in enumerate(values):
            height = plot_h * value / top
            x0 = PAD_LEFT + index * slot + gap / 2
            draw.rectangle(
                [(x0, PAD_TOP + plot_h - height), (x0 + slot - gap, PAD_TOP + plot_h)],
                fill=ACCENT,
            )
    if labels:
        base = HEIGHT - PAD_BOTTOM + 14
        draw.text((PAD_LEFT, base), labels[0], fill=MUTED, font=font, anchor="lt")
        draw.text((WIDTH - PAD_RIGHT, base), labels[-1], fill=MUTED, font=font, anchor="rt")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
