"""The one error a source fails with: its message is shown to the owner as the source's reason."""


class SourceError(Exception):
    """Extraction or fetching failed for a reason the owner can act on (the message says it, without secrets)."""
