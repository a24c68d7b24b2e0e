-- wrk script for bench/bench_load.py: many readers cycling through the pages in LOAD_REQUESTS.
-- Each line of that file is "<path>\t<session cookie>"; every request says it came through the
-- TLS proxy (X-Forwarded-Proto: https), as in production behind nginx.
local requests = {}
for line in io.lines(os.getenv("LOAD_REQUESTS")) do
  local path, cookie = line:match("^(%S+)\t(%S+)$")
  requests[#requests + 1] = wrk.format("GET", path, {
    ["Cookie"] = cookie,
    ["X-Forwarded-Proto"] = "https",
  })
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  -- Globals, so that done() can read them from each thread.
  cursor = math.random(#requests)
  not_ok = 0
end

function request()
  cursor = cursor % #requests + 1
  return requests[cursor]
end

function response(status, headers, body)
  -- wrk counts only 4xx/5xx as errors; a 302 to the login page would be a silent failure.
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests_)
  local not_ok_total = 0
  for _, thread in ipairs(threads) do
    not_ok_total = not_ok_total + thread:get("not_ok")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d " ..
    "not_200=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, not_ok_total, e.connect, e.read, e.write, e.status,
    e.timeout))
end
