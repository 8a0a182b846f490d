curl -X POST __HOST__/api/chat \
  -H "Content-Type: application/json" \
  -H "X-API-Key: __KEY__" \
  -d '{"message": "Hello! What can you help me with?", "session_id": "user-session-abc123"}'
