"""Server-sent events framing."""

import json


def event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def comment(text: str = "keep-alive") -> bytes:
    """A comment line: clients ignore it, idle proxies see traffic."""
    return f": {text}\n\n".encode()


def data(payload: dict | str) -> bytes:
    """An unnamed event, as OpenAI's streams send them: `data: <JSON>` (or a bare word, `[DONE]`)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {text}\n\n".encode()
