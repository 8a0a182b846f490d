import json

import requests

with requests.post(
    "__HOST__/api/chat",
    headers={"Content-Type": "application/json", "X-API-Key": "__KEY__"},
    json={"message": "Hello! What can you help me with?", "session_id": "user-session-abc123", "stream": True},
    stream=True,
    timeout=90,
) as r:
    if not r.ok:
        raise SystemExit(r.json()["error"])
    # Server-sent events: an "event: <name>" line, a "data: <json>" line, then a blank line.
    # Lines end at "\n" only (a reply may contain other line separators).
    event = ""
    for raw in r.iter_lines(delimiter=b"\n"):
        line = raw.decode("utf-8").rstrip("\r")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = json.loads(line[5:])
            if event == "token":
                print(data["delta"], end="", flush=True)  # a piece of the reply, as it is written
            elif event == "done":
                print()  # data["reply"] is the whole reply
            elif event == "error":
                raise SystemExit(data["error"])
