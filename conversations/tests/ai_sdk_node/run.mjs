// The Vercel AI SDK (ai + @ai-sdk/openai) against the gateway: only baseURL and apiKey changed.
// Usage: node run.mjs <baseURL> <apiKey> <model> <responses|chat>; prints one JSON object of what it saw.
// "responses" is the provider's default, openai(model) (the Responses API); "chat" is openai.chat(model).
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const [baseURL, apiKey, modelId, api] = process.argv.slice(2);
const openai = createOpenAI({ baseURL, apiKey });
const model = api === "chat" ? openai.chat(modelId) : openai(modelId);
const tools = {
  get_weather: tool({
    description: "The weather in a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `22 degrees in ${city}`,
  }),
};
const prompt = "Weather in Paris?";
const seen = {};

async function attempt(name, call) {
  try {
    seen[name] = await call();
  } catch (e) {
    seen[name] = { error: e.constructor.name, message: e.message, status: e.statusCode ?? null };
  }
}

await attempt("text", async () => {
  const answer = await generateText({ model, prompt: "Hello", maxRetries: 0 });
  return { text: answer.text, usage: answer.usage.totalTokens };
});
await attempt("followUp", async () => {
  // A second turn sends the first answer back as the SDK keeps it (the Responses provider: an item_reference).
  const first = await generateText({ model, prompt: "Hello", maxRetries: 0 });
  const messages = [{ role: "user", content: "Hello" }, ...first.response.messages, { role: "user", content: "And now?" }];
  const answer = await generateText({ model, messages, maxRetries: 0 });
  return { text: answer.text };
});
await attempt("tool", async () => {
  const answer = await generateText({ model, prompt, tools, stopWhen: stepCountIs(3), maxRetries: 0 });
  return { text: answer.text, steps: answer.steps.length, calls: answer.steps[0].toolCalls.map((c) => [c.toolName, c.input]),
           results: answer.steps[0].toolResults.map((r) => r.output) };
});
await attempt("streamedTool", async () => {
  const result = streamText({ model, prompt, tools, stopWhen: stepCountIs(3), maxRetries: 0 });
  let text = "";
  const kinds = new Set();
  for await (const part of result.fullStream) {
    kinds.add(part.type);
    if (part.type === "text-delta") text += part.text;
    if (part.type === "error") throw part.error;
  }
  return { text, steps: (await result.steps).length, toolInputDeltas: kinds.has("tool-input-delta") };
});
await attempt("streamed", async () => {
  const result = streamText({ model, prompt: "Hello", maxRetries: 0 });
  let text = "";
  for await (const delta of result.textStream) text += delta;
  return { text, usage: (await result.usage).totalTokens };
});
await attempt("object", async () => {
  const answer = await generateObject({ model, schema: z.object({ name: z.string() }), prompt: "A city", maxRetries: 0 });
  return answer.object;
});
console.log(JSON.stringify(seen));
