const response = await fetch("__HOST__/api/chat", {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-API-Key": "__KEY__" },
  body: JSON.stringify({ message: "Hello! What can you help me with?", session_id: "user-session-abc123", stream: true }),
});
if (!response.ok) throw new Error((await response.json()).error);

// Server-sent events: an "event: <name>" line, a "data: <json>" line, then a blank line.
const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
let buffered = "";
let event = "";
for (;;) {
  const { value, done } = await reader.read();
  if (done) break;
  buffered += value;
  let end;
  while ((end = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, end).replace(/\r$/, "");
    buffered = buffered.slice(end + 1);
    if (line.startsWith("event:")) {
      event = line.slice(6).trim();
    } else if (line.startsWith("data:")) {
      const data = JSON.parse(line.slice(5));
      if (event === "token") process.stdout.write(data.delta); // a piece of the reply, as it is written
      if (event === "done") console.log(); // data.reply is the whole reply
      if (event === "error") throw new Error(data.error);
    }
  }
}
