-- wrk's load for the click day: each request one distinct entity's submission.
--
--   bandi --database DB rehearse --entities 300000 --requests-out /tmp/requests.tsv
--   wrk -t1 -c64 -d10s -s scripts/wrk-submit.lua http://127.0.0.1:8080 -- /tmp/requests.tsv
--   wrk -t1 -c64 -d10s -s scripts/wrk-submit.lua http://127.0.0.1:8080     # GET /api/v1/health
--
-- The file has one line per entity, `path TAB token TAB body`. With -tN, thread k sends the
-- lines k, k+N, k+2N, ... (pass N after the file: `-- FILE N`). Once a thread has sent all
-- its lines it sends GET /api/v1/health and says so at the end ("exhausted"): give more
-- entities than the run can send. At the end it prints one line for scripts/bench.sh:
--   wrk-result status_201=... status_200=... other=... errors=... duration_us=... p50_us=... p99_us=... exhausted=... statuses=201:N,...
-- The latencies are wrk's, of every request of the run.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local health = wrk.format("GET", "/api/v1/health")

function init(args)
  counts = {}
  sent = 0
  exhausted = false
  requests = {}
  local file = args[1]
  if file == nil then
    return
  end
  local every = tonumber(args[2] or "1")
  local i = 0
  for line in io.lines(file) do
    if i % every == id then
      local path, token, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
      if path == nil then
        error("bad line " .. (i + 1) .. " in " .. file)
      end
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, body)
    end
    i = i + 1
  end
end

function request()
  if #requests == 0 then
    return health
  end
  sent = sent + 1
  if sent > #requests then
    exhausted = true
    return health
  end
  return requests[sent]
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local ran_out = false
  for _, thread in ipairs(threads) do
    local c = thread:get("counts") or {}
    for k, v in pairs(c) do
      total[k] = (total[k] or 0) + v
    end
    ran_out = ran_out or thread:get("exhausted")
  end
  local other = 0
  local statuses = {}
  for k, v in pairs(total) do
    if k ~= "200" and k ~= "201" then
      other = other + v
    end
    statuses[#statuses + 1] = k .. ":" .. v
  end
  table.sort(statuses)
  local e = summary.errors
  io.write(string.format(
    "wrk-result status_201=%d status_200=%d other=%d errors=%d duration_us=%d p50_us=%d p99_us=%d exhausted=%s statuses=%s\n",
    total["201"] or 0, total["200"] or 0, other,
    e.connect + e.read + e.write + e.status + e.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), tostring(ran_out), table.concat(statuses, ",")))
end
