"""Server-rendered SVG bar charts: geometry computed here, drawn by conversations/_chart.html.

No JavaScript and no inline styles: bars carry CSS classes, so the charts pass
the Content Security Policy and print the same everywhere.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashboard.usage import DayUsage

WIDTH, HEIGHT = 640, 220
# Room for tick labels at the larger type a phone gets (static/css/app.css, .chart .axis-label).
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 32
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
ZERO_BAR = 2.0  # the height of a measured 0
LAST_LABEL_ROOM = 2 * 36  # a slot narrower than this cannot centre a "Dec 31" label at a phone's type size


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # a class from static/css/app.css (.s-answered, .s-failed, ...)
    value: Callable[[DayUsage], int | None]


@dataclass(frozen=True)
class Rect:
    x: str
    y: str
    width: str
    height: str
    css: str


@dataclass(frozen=True)
class Bar:
    tooltip: str
    rects: list[Rect]


@dataclass(frozen=True)
class Tick:
    x: str
    y: str
    label: str
    anchor: str = "middle"  # SVG text-anchor


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    total: str
    series: list[Series]
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    empty: bool
    empty_label: str = "No data"
    days: int = 30
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    center_x: int = LEFT + PLOT_W // 2
    center_y: int = TOP + PLOT_H // 2


def _f(value: float) -> str:
    return f"{value:.1f}"


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return int(step * exponent)
    return int(10 * exponent)  # pragma: no cover


def axis_ticks(value: float) -> list[int]:
    """Whole, evenly spaced tick values from 0 to a round top at or above `value`: at most
    5 steps of 1, 2 or 5 × 10^k (so never "0 / 2 / 5", never "0 ms / 0 ms / 1 ms")."""
    if value <= 0:
        return [0, 1]
    exponent = 10 ** max(0, math.floor(math.log10(value)) - 1)
    while True:
        for step in (1, 2, 5):
            size = step * exponent
            if math.ceil(value / size) <= 5:
                return [size * i for i in range(math.ceil(value / size) + 1)]
        exponent *= 10


def short_number(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return str(value)


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    days: Sequence[DayUsage],
    series: list[Series],
    unit: str = "",
    total: str = "",
    empty_label: str = "",
    has_data: Callable[[DayUsage], bool] | None = None,
) -> Chart:
    """One bar per day, its series stacked bottom-up in the order given.

    The chart is empty when no day `has_data` (by default: no day has a non-zero value); a measured 0
    is data, so a series whose values may be 0 says what counts.
    """
    totals = [sum(s.value(d) or 0 for s in series) for d in days]
    ticks = axis_ticks(max(totals, default=0))
    top = ticks[-1]
    slot = PLOT_W / max(len(days), 1)
    bar_w = max(slot * 0.72, 1)
    bars = []
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        base = TOP + PLOT_H
        rects = []
        parts = []
        measured_zero = has_data is not None and has_data(day) and not totals[i]
        for s in series:
            value = s.value(day)
            parts.append(f"{s.label} {'–' if value is None else f'{value:,}{unit}'}")
            if not value and not measured_zero:
                continue
            # A measured 0 (a latency under the first bucket) gets a sliver, so the day does not look empty.
            h = PLOT_H * value / top if value else ZERO_BAR
            base -= h
            rects.append(Rect(_f(x), _f(base), _f(bar_w), _f(h), s.css))
        bars.append(Bar(tooltip=f"{day.day:%a %b %-d}: " + ", ".join(parts), rects=rects))
    y_ticks = [Tick(x=str(LEFT - 6), y=_f(TOP + PLOT_H * (1 - value / top)), label=short_number(value)) for value in ticks]
    every = 1 if len(days) <= 10 else 7 if len(days) <= 45 else 14
    x_ticks = [
        Tick(x=_f(LEFT + i * slot + slot / 2), y=str(HEIGHT - 8), label=f"{day.day:%b %-d}")
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % every == 0
    ]
    if x_ticks and slot < LAST_LABEL_ROOM:
        # Today's label, centred under a narrow last bar, would run past the drawing's right edge.
        x_ticks[-1] = Tick(x=str(WIDTH - RIGHT), y=x_ticks[-1].y, label=x_ticks[-1].label, anchor="end")
    return Chart(
        id=chart_id,
        title=title,
        total=total,
        series=series,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        empty=not any(map(has_data, days)) if has_data else not any(totals),
        empty_label=empty_label or f"No data in the last {len(days)} days",
        days=len(days),
    )


def usage_charts(days: Sequence[DayUsage]) -> list[Chart]:
    """The usage page's four charts: requests, tokens, failed requests, median latency."""
    n = len(days)
    any_requests = any(d.requests for d in days)
    return [
        stacked_bars(
            chart_id="requests",
            title="Requests per day",
            days=days,
            total=f"{sum(d.requests for d in days):,} in {n} days",
            series=[
                Series("answered", "s-answered", lambda d: d.answered),
                Series("failed", "s-failed", lambda d: d.failed),
            ],
        ),
        stacked_bars(
            chart_id="tokens",
            title="Tokens per day",
            days=days,
            total=f"{sum(d.tokens for d in days):,} in {n} days",
            series=[
                Series("prompt", "s-prompt", lambda d: d.prompt_tokens),
                Series("completion", "s-completion", lambda d: d.completion_tokens),
            ],
        ),
        stacked_bars(
            chart_id="failed",
            title="Failed requests per day",
            days=days,
            total=f"{sum(d.failed for d in days):,} in {n} days",
            empty_label=f"No failed requests in the last {n} days" if any_requests else "",
            series=[
                Series("rate limits (429)", "s-limited", lambda d: d.limited),
                Series("refused (4xx)", "s-refused", lambda d: d.refused),
                Series("provider errors (5xx)", "s-errors", lambda d: d.errors),
            ],
        ),
        stacked_bars(
            chart_id="latency",
            title="Median upstream latency (ms)",
            days=days,
            unit=" ms",
            empty_label=_latency_empty_label(days),
            has_data=lambda d: d.median_latency_ms is not None,
            series=[Series("median", "s-latency", lambda d: d.median_latency_ms)],
        ),
    ]


def _latency_empty_label(days: Sequence[DayUsage]) -> str:
    if any(d.answered for d in days):
        return "No upstream latency measured"
    return f"No answered chats in the last {len(days)} days" if any(d.requests for d in days) else ""
