import requests

r = requests.post(
    "__HOST__/api/chat",
    headers={"Content-Type": "application/json", "X-API-Key": "__KEY__"},
    json={"message": "Hello! What can you help me with?", "session_id": "user-session-abc123"},
    timeout=90,
)
if not r.ok:
    raise SystemExit(r.json()["error"])
print(r.json()["reply"])
