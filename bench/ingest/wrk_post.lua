-- Posts the pre-generated batch bodies in turn (each 1,000 events).
local bodies = {}
local dir = os.getenv("INGEST_BODIES")
local count = tonumber(os.getenv("INGEST_BODY_COUNT"))
for i = 0, count - 1 do
  local f = assert(io.open(dir .. "/body" .. i .. ".json", "rb"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("INGEST_KEY")
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/events", nil, bodies[(n % #bodies) + 1])
end
local bad = 0
response = function(status, headers, body)
  if status ~= 202 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-202 responses: %d\n", bad))
end
