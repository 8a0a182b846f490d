"""Small helpers for calling the public API in tests."""

UPSTREAM_KEY = "sk-upstream-test-key-0123456789"  # what the gateway sends the fake provider


def chat(client, key, message="Hello!", session_id="s-1", **extra):
    body = {"message": message, "session_id": session_id, **extra}
    return client.post("/api/chat", json=body, headers={"X-API-Key": key})


def history(client, key, session_id="s-1"):
    return client.get("/api/history", params={"session_id": session_id}, headers={"X-API-Key": key})
