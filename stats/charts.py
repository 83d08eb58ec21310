"""Charts drawn as SVG on the server: no script, nothing a Content-Security-Policy must allow.

Colours and fonts come from classes in static/css/admin-charts.css."""

import math

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from stats.queries import Series

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 26


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value` (at least 1): the y axis' top."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def daily_bars(series: Series, label: str, css_class: str) -> SafeString:
    """A bar per day, with its date and value as a tooltip; y grid at 0, ½ and the top."""
    top = nice_ceiling(max(series.values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(series.days), 1)
    parts = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        value = top * fraction
        text = f"{value:g}" if value < 10_000 else f"{value / 10_000:g}万"
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>'
        )
    for index, (day, value) in enumerate(zip(series.days, series.values, strict=True)):
        if not value:
            continue
        height = plot_h * value / top
        x = LEFT + index * step
        parts.append(
            f'<rect class="bar" x="{x + step * 0.1:.2f}" y="{TOP + plot_h - height:.2f}" '
            f'width="{max(step * 0.8, 0.6):.2f}" height="{height:.2f}">'
            f"<title>{day:%Y-%m-%d}：{value}</title></rect>"
        )
    if series.days:
        marks = {0: "start", len(series.days) // 2: "middle", len(series.days) - 1: "end"}
        for index, anchor in marks.items():
            x = LEFT + (index + 0.5) * step
            day = date_format(series.days[index], "m-d" if len(series.days) <= 90 else "Y-m-d")
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{day}</text>"
            )
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        css_class,
        WIDTH,
        HEIGHT,
        label,
        mark_safe("".join(parts)),  # built above from numbers and dates only
    )


def share_bar(value: int, largest: int) -> SafeString:
    """A horizontal bar as long as `value` is against `largest`, for a row of a table."""
    percent = 100 * value / largest if largest else 0
    return format_html(
        '<svg class="share" width="100%" height="12" aria-hidden="true">'
        '<rect class="bar" x="0" y="0" height="12" width="{}%"/></svg>',
        f"{percent:.1f}",
    )
