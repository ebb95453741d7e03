-- wrk script (benches/run.sh): sends each request of a pre-made list exactly once, then stops.
--
--   WRK_LIST=requests.tsv WRK_THREADS=2 WRK_JSON_OUT=out.json \
--     wrk -t2 -c16 -d60s -s benches/wrk_list.lua http://127.0.0.1:PORT
--
-- WRK_LIST has one request per line: METHOD<TAB>PATH<TAB>BODY[<TAB>Header: value]... (BODY may be
-- empty; a PATH carries its query). Thread k of WRK_THREADS takes lines k, k+T, k+2T, ... so no line
-- is sent twice. When a thread has handed out its share it records the time, stops its event loop
-- and sends SIGINT to wrk, which ends the run at once (wrk would otherwise sleep out -d): -d is only
-- the upper bound. Requests still in flight then are cut off (their responses are not counted).
-- Should a connection ask for a request after the list ran out (before the loop stopped), it gets
-- WRK_FILLER ("METHOD PATH", default "GET /health"), an unsigned request that changes nothing.
-- WRK_DRAIN=1 waits for every response instead (see below; for loading data).
--
-- The report (wrk_report.lua, to WRK_JSON_OUT) adds: loaded, sent, unsent, exhausted (the list ran
-- out before -d), and req_per_s_list = responses / (list ran out - first request), free of wrk's
-- connect time and its 100 ms stop poll.
--
-- wrk's Lua limits worked around here: done() runs in a separate Lua state (no access to the
-- threads' globals but through thread:get, and no script arguments: everything comes from the
-- environment), wrk calls request() once on thread 0 before the run to check the request (it gets
-- the filler, which is not sent), and wrk has no way to end a run early from a script (SIGINT via
-- LuaJIT's ffi, as Ctrl-C would).

local script_dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(script_dir .. "wrk_report.lua")

local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } wrk_list_timespec;
int clock_gettime(int clk_id, wrk_list_timespec *tp);
int kill(int pid, int sig);
int getpid(void);
]])
local function now()
  local ts = ffi.new("wrk_list_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: the same clock in every thread
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  report_threads[#report_threads + 1] = thread
end

local list, filler, idx = {}, nil, 0
loaded, sent, exhausted, t_first, t_last = 0, 0, false, -1, -1
local calls = 0

local function split(line)
  local fields = {}
  for f in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
  return fields
end

function init(args)
  local path = assert(os.getenv("WRK_LIST"), "WRK_LIST is not set")
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  local n = 0
  for line in io.lines(path) do
    if line ~= "" then
      if n % nthreads == tid then
        local f = split(line)
        local headers = {}
        for i = 4, #f do
          local k, v = f[i]:match("^([^:]+):%s*(.*)$")
          if k then headers[k] = v end
        end
        local body = f[3]
        list[#list + 1] = wrk.format(f[1], f[2], headers, body)
      end
      n = n + 1
    end
  end
  loaded = #list
  local fm, fp = (os.getenv("WRK_FILLER") or "GET /health"):match("^(%S+)%s+(%S+)$")
  filler = wrk.format(fm, fp)
end

local drain = os.getenv("WRK_DRAIN") == "1"
local fillers = 0

-- This thread is done: record the time and stop its loop. Without WRK_DRAIN the first thread to
-- finish ends the run (SIGINT: wrk stops at once instead of sleeping out -d); with it, the last one
-- does (each leaves a marker file next to WRK_JSON_OUT and counts the others').
local function finish()
  if exhausted then return end
  exhausted = true
  t_last = now()
  wrk.thread:stop()
  local all = true
  if drain then
    local base = os.getenv("WRK_JSON_OUT") .. ".done."
    local f = io.open(base .. tid, "w")
    f:close()
    for k = 0, tonumber(os.getenv("WRK_THREADS") or "1") - 1 do
      local g = io.open(base .. k, "r")
      if g then g:close() else all = false end
    end
  end
  if all then ffi.C.kill(ffi.C.getpid(), 2) end
end

function request()
  calls = calls + 1
  if tid == 0 and calls == 1 then
    -- wrk's pre-run check of the request format: give it the filler, keep the list intact
    return filler
  end
  if idx < loaded then
    idx = idx + 1
    if t_first < 0 then t_first = now() end
    sent = idx
    return list[idx]
  end
  if drain then
    fillers = fillers + 1 -- only when this thread's share is smaller than its connections
  else
    finish()
  end
  return filler
end

-- WRK_DRAIN=1 (loading data, where every request must complete): once a thread has handed out its
-- share, its idle connections wait (delay) instead of sending fillers, and the thread finishes when
-- the last response of its share has arrived (a request cut off by stopping could be left undone).
-- Costs a Lua call per response, so the measured runs do not use it.
if drain then
  local received = 0
  function delay()
    if idx >= loaded then return 3600000 end
    return 0
  end
  function response(status, headers, body)
    received = received + 1
    if idx >= loaded and received >= sent + fillers then finish() end
  end
end

function extra_report(r, threads)
  local first, last, all_done, any_done = nil, nil, true, false
  r.loaded, r.sent = 0, 0
  for _, t in ipairs(threads) do
    r.loaded = r.loaded + t:get("loaded")
    r.sent = r.sent + t:get("sent")
    local a, b = t:get("t_first"), t:get("t_last")
    if a >= 0 and (first == nil or a < first) then first = a end
    if b < 0 then all_done = false else any_done = true end
    if b >= 0 and (last == nil or b > last) then last = b end
  end
  -- exhausted: the run ended because the list ran out (the first thread to finish its share
  -- stops wrk; the other may leave a few lines unsent), not at the -d bound
  r.exhausted = any_done
  r.all_exhausted = all_done
  r.unsent = r.loaded - r.sent
  if first and last and last > first then
    r.list_elapsed_s = last - first
    r.req_per_s_list = r.requests / (last - first)
  end
end
