-- wrk script: counters calling the next ticket and then releasing it.
--
--   wrk -t16 -c16 -d20s -s bench/call_next.lua http://127.0.0.1:PORT -- TOKEN COUNTERS RELEASE
--
-- Run it with one connection per thread (-t N -c N): wrk's Lua hooks do not say which
-- connection a response belongs to, so each thread plays one counter from the comma-separated
-- COUNTERS, strictly alternating requests and responses. A counter holding a called ticket
-- refuses call-next (409 counter_busy), so after each call the thread releases the ticket:
-- RELEASE "cancel" sends /cancel; "serve" sends /start and then /complete, as staff do.
-- Latencies are kept per request kind; "call" (call-next) is the figure the benchmark reports.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

setup = bench.setup

local headers, counter, release
local held, step, kind, started

function init(args)
  headers = { ["Authorization"] = "Bearer " .. args[1] }
  local counters = bench.split(args[2], ",")
  counter = counters[(thread_number - 1) % #counters + 1]
  release = args[3] == "serve" and { "start", "complete" } or { "cancel" }
end

function request()
  started = bench.now_us()
  if held == nil then
    kind = "call"
    return wrk.format("POST", "/api/v1/counters/" .. counter .. "/call-next", headers)
  end
  kind = release[step]
  return wrk.format("POST", "/api/v1/tickets/" .. held .. "/" .. kind, headers)
end

function response(status, _, body)
  bench.record(kind, status, started, body)
  if kind == "call" then
    if status == 200 then
      held = tonumber(body:match('"id":%s*(%d+)'))
      step = 1
    end
  elseif status == 200 and step < #release then
    step = step + 1
  else
    held = nil
  end
end

function done(summary, latency, _)
  bench.report(summary, latency, { "call", "start", "complete", "cancel" })
end
