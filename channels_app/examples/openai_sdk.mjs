import OpenAI from "openai"; // npm install openai

const client = new OpenAI({ baseURL: "__HOST__/v1", apiKey: "__KEY__" });
const models = await client.models.list();
const stream = await client.chat.completions.create({
  model: models.data[0].id, // the channel's model
  messages: [{ role: "user", content: "Hello! What can you help me with?" }],
  user: "user-session-abc123", // the session it is stored in (GET /api/history)
  stream: true,
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
process.stdout.write("\n");
