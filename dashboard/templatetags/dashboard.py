from datetime import timezone as dt_timezone

from django import template

register = template.Library()


@register.filter
def tokens_k(value: int) -> str:
    """131072 → "128K", as the API reference writes context and output sizes."""
    return f"{value // 1024}K" if value >= 1024 else str(value)


@register.filter
def price(value) -> str:
    """US dollars per million tokens with cents, and more digits only where the price has them: 0.60, 0.075."""
    from decimal import Decimal

    cents = Decimal(value).quantize(Decimal("0.01"))
    return f"{cents}" if cents == Decimal(value) else f"{Decimal(value).normalize():f}"


@register.filter
def percent_class(value: int) -> str:
    """A CSS width class for a meter: w-0, w-5, ... w-100 (no inline styles under the CSP)."""
    return f"w-{min(100, max(0, 5 * round(value / 5)))}"


@register.filter
def num(value) -> str:
    """12345 → "12,345": one way of writing a count in tiles, chart headers and tables."""
    return f"{value:,}" if isinstance(value, int) else str(value)


@register.filter
def ago(value) -> str:
    """"just now" under a minute, else Django's timesince and "ago" ("3 minutes ago")."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def when(value, seconds: bool = False):
    """A <time> in UTC that static/js/app.js rewrites into the owner's time zone, UTC kept on hover."""
    from django.utils.html import format_html

    if value is None:
        return "–"
    utc = value.astimezone(dt_timezone.utc)
    shown = utc.strftime("%b %-d, %Y %H:%M" + (":%S" if seconds else ""))
    return format_html(
        '<time datetime="{}" data-local="{}" title="{} UTC">{} UTC</time>',
        utc.isoformat(), "seconds" if seconds else "minutes", utc.strftime("%Y-%m-%d %H:%M:%S"), shown,
    )


@register.filter
def usd(value) -> str:
    """US dollars as owners read them: $1,234.56; a non-zero amount under a cent keeps four decimals ($0.0042),
    and one too small for those says so rather than reading "$0.0000"."""
    if value is None:
        return "–"
    if 0 < abs(value) < 0.0001:
        return "under $0.0001"
    if 0 < abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


@register.filter
def latency(value) -> str:
    """A latency read from the roll-ups' buckets: 1,500 ms; "under 25 ms" for the first bucket, whose
    lower bound (0) would read as if the provider had answered instantly; "–" when none was measured."""
    from conversations.engine.rollups import LATENCY_BUCKETS_MS

    if value is None:
        return "–"
    if value < LATENCY_BUCKETS_MS[1]:
        return f"under {LATENCY_BUCKETS_MS[1]} ms"
    return f"{value:,} ms"


@register.filter
def placed(messages, place: str = "") -> list:
    """The flash messages meant for one place on the page (`extra_tags`); "" for the top of the page.

    An error about a form far down the page is shown beside that form, where the owner is looking."""
    return [m for m in messages or () if (m.extra_tags or "") == place]
