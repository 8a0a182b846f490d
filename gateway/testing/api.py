"""Small helpers for calling the public API in tests."""

UPSTREAM_KEY = "sk-upstream-test-key-0123456789"  # what the gateway sends the fake provider


def chat(client, key, message="Hello!", session_id="s-1", **extra):
    body = {"message": message, "session_id": session_id, **extra}
    return client.post("/api/chat", json=body, headers={"X-API-Key": key})


def history(client, key, session_id="s-1"):
    return client.get("/api/history", params={"session_id": session_id}, headers={"X-API-Key": key})


def parse_sse(text: str) -> list[tuple[str, object]]:
    """Server-sent events as (event, data) pairs; comments come back as ("comment", text)."""
    import json

    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        if block.startswith(":"):
            events.append(("comment", block[1:].strip()))
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))  # SSE lines end at LF, not at U+0085
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def chat_stream(client, key, message="Hello!", session_id="s-1", **extra):
    """POST a streaming chat; returns (response, events)."""
    body = {"message": message, "session_id": session_id, "stream": True, **extra}
    response = client.post("/api/chat", json=body, headers={"X-API-Key": key})
    if response.headers["content-type"].startswith("text/event-stream"):
        return response, parse_sse(response.text)
    return response, None


# --- The embeddable widget: a publishable key in the `key` query parameter, from a page's Origin. ---

WIDGET_ORIGIN = "https://shop.example"  # what the `widget_key` fixture allows


def widget_session(client, pk, origin=WIDGET_ORIGIN):
    """POST /api/widget-session: a new server-issued session id, as the widget asks for one."""
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/widget-session", params={"key": pk}, headers=headers)


def issued_session_id(pk: str, label: str) -> str:
    """The widget session id `label` stands for on `pk`'s channel: the same label, the same issued id.

    Lets tests name visitors ("v-1", "v-2") while the server only accepts ids
    it issued (conversations/engine/widget_sessions.py). An id already issued ("ws_…"),
    or a key no channel has, passes through unchanged.
    """
    import hashlib
    import threading

    from django.db import connection

    from channels_app.models import PublishableKey
    from conversations.engine import widget_sessions

    if label.startswith(widget_sessions.PREFIX):
        return label
    try:
        publishable = PublishableKey.objects.select_related("channel").filter(key=pk).first()
    finally:
        # Tests call this from worker threads too: a thread's connection would stay checked out of
        # PostgreSQL's pool, which the in-process gateway shares.
        if threading.current_thread() is not threading.main_thread():
            connection.close()
    if publishable is None:
        return label
    nonce = hashlib.sha256(label.encode("utf-8", "surrogatepass")).digest()[:16]
    return widget_sessions.signed(publishable.channel.public_id, nonce)


def widget_chat(client, pk, message="Hello!", session_id="v-1", origin=WIDGET_ORIGIN, **extra):
    """A widget visitor's chat; `session_id` is a label for an issued id (issued_session_id)."""
    body = {"message": message, "session_id": issued_session_id(pk, session_id), **extra}
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/chat", params={"key": pk}, json=body, headers=headers)


def widget_history(client, pk, session_id="v-1", origin=WIDGET_ORIGIN, **params):
    """A widget visitor's history; `session_id` is a label for an issued id (issued_session_id)."""
    headers = {"Origin": origin} if origin else {}
    query = {"key": pk, "session_id": issued_session_id(pk, session_id), **params}
    return client.get("/api/history", params=query, headers=headers)


def preflight(client, path, pk, origin=WIDGET_ORIGIN, method="POST"):
    headers = {"Origin": origin, "Access-Control-Request-Method": method,
               "Access-Control-Request-Headers": "content-type"}
    return client.options(path, params={"key": pk} if pk else None, headers=headers)


def cors_headers(response) -> dict:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def credits(channel) -> int:
    """The channel's credits as the database holds them now."""
    channel.refresh_from_db()
    return channel.credits
