-- wrk reporter (benches/run.sh): at the end of a run, writes one JSON object with the figures the
-- suite needs to the file named by $WRK_JSON_OUT (wrk's own text report is still printed):
--   requests, duration_s (wrk's clock), req_per_s, p50_ms, p90_ms, p99_ms, max_ms, errors {...}
-- `errors.status` counts responses with a status >= 400 (wrk's own rule); the suite prints it
-- loudly when it is not 0. Used alone for fixed requests (`wrk -s wrk_report.lua URL`), and by
-- wrk_list.lua, which adds its per-thread counters through `extra_report(threads)`.

report_threads = report_threads or {}

local function json_value(v)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return string.format("%.6f", v)
  elseif type(v) == "boolean" then
    return tostring(v)
  elseif type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = string.format("%q: %s", tostring(k), json_value(x)) end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif v == nil then
    return "null"
  end
  return string.format("%q", tostring(v))
end

function done(summary, latency, requests)
  local out = os.getenv("WRK_JSON_OUT")
  if not out or out == "" then return end
  local duration = summary.duration / 1e6
  local r = {
    requests = summary.requests,
    bytes = summary.bytes,
    duration_s = duration,
    req_per_s = summary.requests / duration,
    p50_ms = latency:percentile(50) / 1000,
    p90_ms = latency:percentile(90) / 1000,
    p99_ms = latency:percentile(99) / 1000,
    max_ms = latency.max / 1000,
    errors = {
      connect = summary.errors.connect, read = summary.errors.read, write = summary.errors.write,
      status = summary.errors.status, timeout = summary.errors.timeout,
    },
  }
  if extra_report then extra_report(r, report_threads) end
  local f = assert(io.open(out, "w"))
  f:write(json_value(r), "\n")
  f:close()
end
