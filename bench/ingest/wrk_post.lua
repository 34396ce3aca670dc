-- Posts the pre-generated batch bodies in turn (each 1,000 events). A response counts as bad
-- unless it is a 202 that accepted every event of the batch; each wrk thread counts its own, and
-- done() sums them (done runs in its own Lua state, so it reads the threads' counters).
local bodies = {}
local dir = os.getenv("INGEST_BODIES")
local count = tonumber(os.getenv("INGEST_BODY_COUNT"))
local batch = tonumber(os.getenv("INGEST_BATCH") or "1000")
for i = 0, count - 1 do
  local f = assert(io.open(dir .. "/body" .. i .. ".json", "rb"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end

local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local n = 0
bad = 0
first_bad = ""
init = function(args)
  n = id * 7  -- threads start on different bodies
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("INGEST_KEY")
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/events", nil, bodies[(n % #bodies) + 1])
end

local want = '"accepted":' .. batch .. ','
response = function(status, headers, body)
  if status ~= 202 or not string.find(body, want, 1, true) then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 300) end
  end
end

done = function(summary, latency, requests)
  local total = 0
  local sample = ""
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    if sample == "" then sample = t:get("first_bad") end
  end
  io.write(string.format("bad responses: %d\n", total))
  if total > 0 then io.write("first bad response: " .. sample .. "\n") end
end
