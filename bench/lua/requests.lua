-- Cycles through pre-built requests read from a TSV file (one per line: method, path, body,
-- then "Name: value" headers), each thread from its own offset, and prints a JSON summary.
-- Usage: wrk ... -s bench/lua/requests.lua http://host:port -- requests.tsv

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs = {}
local idx = 1

local function split(line)
  local parts = {}
  for part in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(parts, part)
  end
  return parts
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then
      local p = split(line)
      local headers = {}
      for i = 4, #p do
        local name, value = p[i]:match("^([^:]+):%s*(.*)$")
        if name then headers[name] = value end
      end
      local body = nil
      if p[3] ~= "" then body = p[3] end
      table.insert(reqs, wrk.format(p[1], p[2], headers, body))
    end
  end
  f:close()
  local n = #reqs
  -- threads start half-way apart so they do not send the same visitor at the same time
  idx = ((id or 0) * math.floor(n / 2)) % n + 1
end

function request()
  local r = reqs[idx]
  idx = idx + 1
  if idx > #reqs then idx = 1 end
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
