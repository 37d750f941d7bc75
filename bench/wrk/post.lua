-- wrk script for the tfaas benchmark: every request is a POST of the same JSON
-- body, with the same headers for both servers. Set by bench/run.sh:
--   BENCH_BODY  the JSON request body
--   BENCH_AUTH  base64 of "uuid:key" for the Authorization header (optional)
--   BENCH_DELAY_MS  pause before each request on a connection (optional):
--               bench/soak.mjs uses it to hold a request rate below the peak
-- At the end it prints the machine-readable line of report.lua.

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

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
