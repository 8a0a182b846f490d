"""A channel's allowed origins: where its publishable key works.

An origin is `scheme://host[:port]`, normalised the way browsers serialise the
`Origin` header (lowercase scheme and host, punycode, no default port, no
path), so a request's header is matched by exact string comparison.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

MAX_ORIGINS = 20
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(value: str) -> str:
    """The canonical form of one origin; raises ValidationError naming what is wrong."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError("An origin must not be empty.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError(f"{text} is not a valid origin.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise ValidationError(f"{text}: an origin is http:// or https:// followed by a host, e.g. https://www.example.com.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValidationError(f"{text}: an origin has no path, query or fragment.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{text}: an origin has no user name or password.")
    host = parts.hostname or ""
    if not host or "*" in host:
        raise ValidationError(f"{text}: give an exact host (wildcards are not allowed).")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValidationError(f"{text}: the host is not a valid domain name.") from None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def normalise_list(values) -> list[str]:
    """Every origin normalised, duplicates dropped, order kept; at most MAX_ORIGINS."""
    if not isinstance(values, (list, tuple)):
        raise ValidationError("Allowed origins must be a list.")
    result: list[str] = []
    for value in values:
        origin = normalise(value)
        if origin not in result:
            result.append(origin)
    if len(result) > MAX_ORIGINS:
        raise ValidationError(f"At most {MAX_ORIGINS} allowed origins.")
    return result
