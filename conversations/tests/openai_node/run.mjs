// The official openai npm package against the gateway: only baseURL and apiKey changed.
// Usage: node run.mjs <baseURL> <apiKey> <model> [all|chat|stream]; prints one JSON object of what it saw:
// "all" runs plain, streaming, models and three errors; "chat" and "stream" one chat each, or the error it got;
// "responses" the Responses API: responses.create with a function tool's round trip, and responses.stream.
import OpenAI from "openai";

const [baseURL, apiKey, model, which = "all"] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "Hello" }];

async function error(call) {
  try {
    await call();
    return null;
  } catch (e) {
    return { class: e.constructor.name, status: e.status ?? null, message: e.error?.message ?? e.message,
             code: e.error?.code ?? null, retryAfter: e.headers?.get?.("retry-after") ?? null };
  }
}

if (which === "chat") {
  const failed = await error(async () => {
    const answer = await client.chat.completions.create({ model, messages });
    console.log(JSON.stringify({ content: answer.choices[0].message.content }));
  });
  if (failed) console.log(JSON.stringify({ error: failed }));
  process.exit(0);
}
if (which === "stream") {
  let text = "";
  const failed = await error(async () => {
    for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? "";
    }
  });
  console.log(JSON.stringify({ text, error: failed }));
  process.exit(0);
}

if (which === "responses") {
  const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
  const input = [{ role: "user", content: "Weather in Paris?" }];
  const first = await client.responses.create({ model, input, tools, user: "node-r" });
  const call = first.output[0];
  const final = await client.responses.create({ model, tools, user: "node-r", input: [
    ...input, call, { type: "function_call_output", call_id: call.call_id, output: "22 degrees" },
  ] });
  const kinds = [];
  const stream = client.responses.stream({ model, input: "Hello" });
  for await (const event of stream) kinds.push(event.type);
  const streamed = await stream.finalResponse();
  console.log(JSON.stringify({ call: [call.type, call.name, call.arguments], final: final.output_text,
                               usage: final.usage.total_tokens, streamed: streamed.output_text, kinds }));
  process.exit(0);
}

const plain = await client.chat.completions.create({ model, messages, user: "node-1" });
const stream = await client.chat.completions.create({
  model, messages, stream: true, stream_options: { include_usage: true }, user: "node-1",
});
let streamed = "", usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) streamed += chunk.choices[0].delta.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
const models = [];
for await (const m of client.models.list()) models.push(m.id);
const wrongKey = new OpenAI({ baseURL, apiKey: "amgai_wrong", maxRetries: 0 });

console.log(JSON.stringify({
  plain: { object: plain.object, content: plain.choices[0].message.content, usage: plain.usage },
  streamed, usage, models,
  errors: {
    auth: await error(() => wrongKey.chat.completions.create({ model, messages })),
    notFound: await error(() => client.chat.completions.create({ model: "gpt-4o", messages })),
    badRequest: await error(() => client.chat.completions.create({ model, messages, n: 2 })),
  },
}));
