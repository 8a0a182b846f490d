-- wrk script for the gateway bench.
--   wrk ... -s chat.lua <url> -- gateway <targets.tsv>   POST /api/chat, rotating keys and sessions
--   wrk ... -s chat.lua <url> -- openai <targets.tsv>    POST /v1/chat/completions to the gateway (its OpenAI-compatible API)
--   wrk ... -s chat.lua <url> -- gateway <targets.tsv> <run>   the same keys, a new session per chat (a busy
--                                                         site's widget: every visitor new), named <run>-<thread>-<n>
--   wrk ... -s chat.lua <url> -- direct                  POST /v1/chat/completions straight to the mock
-- done() prints one line "BENCH_JSON {...}" that bench.run parses.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local requests = {}
local n = 0
overheads = {}
statuses = {}

local QUESTIONS = {
  "Do you ship to Austria, and how long does delivery usually take?",
  "Is the blue enamel pot dishwasher safe?",
  "What is the difference between the 24 cm and the 28 cm frying pan?",
  "Which of your kettles is the quietest?",
}

local mode, run, keys = nil, nil, {}

local function chat(key, session, i)
  if mode == "openai" then
    local body = '{"messages": [{"role": "user", "content": "' .. QUESTIONS[(i % #QUESTIONS) + 1] .. ' (#' .. i ..
      ')"}], "user": "' .. session .. '"}'
    return wrk.format("POST", "/v1/chat/completions",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
  end
  local body = '{"message": "' .. QUESTIONS[(i % #QUESTIONS) + 1] .. ' (#' .. i .. ')", "session_id": "' .. session ..
    '", "metadata": {"url": "https://shop.example/p/' .. i .. '", "title": "Product ' .. i .. '"}}'
  return wrk.format("POST", "/api/chat", {["Content-Type"] = "application/json", ["X-API-Key"] = key}, body)
end

function init(args)
  mode, run = args[1], args[3]
  if mode == "openai" or mode == "gateway" then
    local i = 0
    for line in io.lines(args[2]) do
      local key, session = line:match("^(%S+)\t(%S+)$")
      if key then
        i = i + 1
        table.insert(keys, key)
        table.insert(requests, chat(key, session, i))
      end
    end
  else
    -- About what the gateway sends upstream for a session with ten prior messages.
    local msgs = '{"role": "system", "content": "You are the helpful assistant of an online shop that sells kitchen equipment. Answer briefly."}'
    for i = 1, 5 do
      msgs = msgs .. ', {"role": "user", "content": "' .. QUESTIONS[(i % #QUESTIONS) + 1] .. '"}' ..
        ', {"role": "assistant", "content": "Good question! The item is in stock, ships within two working days, and comes with a two-year warranty."}'
    end
    msgs = msgs .. ', {"role": "user", "content": "Which of your kettles is the quietest?"}'
    local body = '{"model": "llama-3.3-70b-versatile", "messages": [' .. msgs .. '], "max_tokens": 8192, "stream": false}'
    table.insert(requests, wrk.format("POST", "/v1/chat/completions",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench"}, body))
  end
  -- threads start at different points of the rotation
  n = math.random(#requests) - 1
end

function request()
  n = n + 1
  if run then  -- a session no chat has named before: built per request
    return chat(keys[(n % #keys) + 1], run .. "-" .. tid .. "-" .. n, n)
  end
  return requests[(n % #requests) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local v = headers["X-Gateway-Overhead-Ms"] or headers["x-gateway-overhead-ms"]
  if v then
    overheads[#overheads + 1] = tonumber(v)
  end
end

local function pct(sorted, p)
  if #sorted == 0 then return nil end
  local idx = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[idx]
end

function done(summary, latency, requests_)
  local all, status_counts = {}, {}
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("overheads")) do all[#all + 1] = v end
    for code, count in pairs(t:get("statuses")) do
      status_counts[tostring(code)] = (status_counts[tostring(code)] or 0) + count
    end
  end
  table.sort(all)
  local parts = {}
  for code, count in pairs(status_counts) do parts[#parts + 1] = '"' .. code .. '": ' .. count end
  local function num(x) if x == nil then return "null" end return string.format("%.3f", x) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"server_overhead_ms": {"n": %d, "p50": %s, "p90": %s, "p99": %s, "max": %s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    #all, num(pct(all, 50)), num(pct(all, 90)), num(pct(all, 99)), num(all[#all])))
end
