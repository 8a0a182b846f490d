const response = await fetch("__HOST__/api/chat", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-API-Key": "__KEY__" },
  body: JSON.stringify({ message: "Hello! What can you help me with?", session_id: "user-session-abc123" }),
});
const data = await response.json();
if (!response.ok) throw new Error(data.error);
console.log(data.reply);
