"""Server-sent events framing."""

import json


def event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def comment(text: str = "keep-alive") -> bytes:
    """A comment line: clients ignore it, idle proxies see traffic."""
    return f": {text}\n\n".encode()
