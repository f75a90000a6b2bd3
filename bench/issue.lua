-- wrk script: issue tickets, as kiosks do.
--
--   wrk -t2 -c16 -d20s -s bench/issue.lua http://127.0.0.1:PORT -- TOKEN RUN SERVICE[,SERVICE...]
--
-- Every request is POST /api/v1/tickets with its own Idempotency-Key (RUN, the wrk thread and
-- a counter make it unique across runs), cycling through the given service codes.
-- Every request is of one kind, so wrk's own latency histogram is the figure; this script only
-- counts statuses (several connections share a thread's Lua state, see common.lua).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "?.lua;" .. package.path
local bench = require("common")

setup = bench.setup

local headers, run, services
local sent, next_service = 0, 0

function init(args)
  headers = {
    ["Authorization"] = "Bearer " .. args[1],
    ["Content-Type"] = "application/json",
  }
  run = args[2]
  services = bench.split(args[3], ",")
  -- Threads start at different services so that they do not move in lockstep.
  next_service = thread_number % #services
end

function request()
  sent = sent + 1
  next_service = next_service % #services + 1
  headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, thread_number, sent)
  return wrk.format("POST", "/api/v1/tickets", headers,
                    string.format('{"service":"%s"}', services[next_service]))
end

function response(status, _, body)
  bench.record("issue", status, nil, body)
end

function done(summary, latency, _)
  bench.report(summary, latency, { "issue" })
end
