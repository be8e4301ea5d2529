-- wrk script for bench/console.sh: counts every response that is not a 200
-- (a redirect to /login means the session cookie was not accepted; wrk's own
-- "Non-2xx or 3xx" count does not catch those) and prints the figures on one
-- machine-readable line:
--   RESULT requests=N seconds=S rps=R p50_us=… p90_us=… p99_us=… max_us=… non200=N errors=N timeouts=N
-- (errors: connect, read, write and timeouts; a timed-out request is not in
-- the latency figures, so bench/console.sh sets a long --timeout and fails on any)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non200=%d errors=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    bad, e.connect + e.read + e.write + e.timeout, e.timeout))
end
