from django import template

register = template.Library()


@register.filter
def tokens_k(value: int) -> str:
    """131072 → "128K", as the API reference writes context and output sizes."""
    return f"{value // 1024}K" if value >= 1024 else str(value)


@register.filter
def percent_class(value: int) -> str:
    """A CSS width class for a meter: w-0, w-5, ... w-100 (no inline styles under the CSP)."""
    return f"w-{min(100, max(0, 5 * round(value / 5)))}"
