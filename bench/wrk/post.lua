-- wrk script for the tfaas benchmark: every request is a POST of the same JSON
-- body, with the same headers for both servers. Set by bench/run.sh:
--   BENCH_BODY  the JSON request body
--   BENCH_AUTH  base64 of "uuid:key" for the Authorization header (optional)
--   BENCH_DELAY_MS  pause before each request on a connection (optional):
--               bench/soak.mjs uses it to hold a request rate below the peak
-- At the end it prints one machine-readable line, "BENCH k=v ...", which
-- run.sh reads instead of parsing wrk's human output.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = "Basic " .. auth
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms ~= nil and delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
