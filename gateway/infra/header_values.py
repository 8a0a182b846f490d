"""What a request names in a header of its own (Idempotency-Key, X-Session-Id): one rule for both."""

# The rule below as a JSON-schema pattern (the length goes in the schema's maxLength), for the OpenAPI schema.
TOKEN_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"


def is_token(value: str, max_length: int) -> bool:
    """1 to `max_length` printable ASCII characters, not all spaces: what a header carries as it was sent (other
    bytes arrive as latin-1, control characters not at all), and so what an answer's header can name back."""
    return 1 <= len(value) <= max_length and value.isascii() and value.isprintable() and not value.isspace()
