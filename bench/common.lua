-- Shared by the wrk scripts: a wall clock, per-thread latency samples, and a JSON report.
--
-- wrk runs each thread in its own Lua state. setup() runs in the main state once per thread,
-- init() and request()/response() in the thread's state, done() in the main state again;
-- done() reads what each thread gathered through thread:get().

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local M = {}

function M.now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

function M.split(text, sep)
  local parts = {}
  for part in string.gmatch(text, "[^" .. sep .. "]+") do
    parts[#parts + 1] = part
  end
  return parts
end

-- Main state: remember every thread and give it a number (1-based) before it starts.
local threads = {}

function M.setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

local function percentile(sorted, p)
  if #sorted == 0 then
    return nil
  end
  local index = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[index]
end

local function json_string(text)
  local escaped = tostring(text):gsub('[%c"\\]', function(char)
    return string.format("\\u%04x", string.byte(char))
  end)
  return '"' .. escaped .. '"'
end

local function json_value(value)
  if type(value) == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = json_string(key) .. ":" .. json_value(item)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return "null"
    end
    return string.format("%.3f", value)
  elseif value == nil then
    return "null"
  end
  return json_string(value)
end

-- Main state: one line "BENCH_JSON {...}" that bench/throughput.py parses.
-- `kinds` lists the request kinds whose samples the threads kept in `samples_<kind>` and whose
-- status counts they kept in `status_<kind>`; wrk's own histogram covers every request.
function M.report(summary, latency, kinds)
  local seconds = summary.duration / 1e6
  local result = {
    seconds = seconds,
    requests = summary.requests,
    socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    non_2xx = summary.errors.status,
    all = {
      per_second = summary.requests / seconds,
      p50_ms = latency:percentile(50) / 1000,
      p99_ms = latency:percentile(99) / 1000,
      max_ms = latency.max / 1000,
    },
  }
  local first_errors = {}
  for _, thread in ipairs(threads) do
    local error = thread:get("first_error")
    if error ~= nil and #first_errors < 5 then
      first_errors[#first_errors + 1] = error
    end
  end
  result.first_errors = first_errors
  for _, kind in ipairs(kinds) do
    local samples, statuses, answered = {}, {}, 0
    for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get("samples_" .. kind) or {}) do
        samples[#samples + 1] = value
      end
      for status, count in pairs(thread:get("status_" .. kind) or {}) do
        statuses[status] = (statuses[status] or 0) + count
        answered = answered + count
      end
    end
    table.sort(samples)
    result[kind] = { count = answered, per_second = answered / seconds, statuses = statuses }
    if #samples > 0 then
      result[kind].p50_ms = percentile(samples, 50) / 1000
      result[kind].p99_ms = percentile(samples, 99) / 1000
      result[kind].max_ms = samples[#samples] / 1000
    end
  end
  io.write("BENCH_JSON " .. json_value(result) .. "\n")
end

-- Thread state: each kind's samples (microseconds) and status counts live in the globals
-- samples_<kind> and status_<kind>, which done() copies out of the finished thread.
-- A sample is only meaningful with one connection per thread (-t N -c N): the thread's Lua
-- state is shared by its connections, so `started_us` must be nil otherwise.
function M.record(kind, status, started_us, body)
  local samples_name, status_name = "samples_" .. kind, "status_" .. kind
  local samples = _G[samples_name]
  if samples == nil then
    samples = {}
    _G[samples_name] = samples
    _G[status_name] = {}
  end
  if started_us ~= nil then
    samples[#samples + 1] = M.now_us() - started_us
  end
  local statuses = _G[status_name]
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  -- Keep the first refusal's body: it says why (counter_busy, database locked...).
  if status >= 300 and first_error == nil and body ~= nil then
    first_error = string.format("%s %d %s", kind, status, body)
  end
end

return M
