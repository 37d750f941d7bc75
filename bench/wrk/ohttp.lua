-- wrk script for confidential hello (bench/confidential.mjs): POSTs, in
-- order, the encapsulated OHTTP requests of a file written by
-- tfaas_crypto_tool's ohttp_client_batch (u32 big-endian length + message,
-- each one fresh: the enclave refuses replays). Set by confidential.mjs:
--   BENCH_REQUESTS  the file;  BENCH_AUTH  base64 of "uuid:key"
-- Prints the "BENCH k=v ..." line of report.lua. A run that needs more
-- requests than the file holds starts again from the first: those replays
-- are refused (400) and counted as errors, so size the file generously.

local reqs = {}
local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
local data = f:read("*a")
f:close()
local pos = 1
while pos + 3 <= #data do
  local a, b, c, d = data:byte(pos, pos + 3)
  local len = ((a * 256 + b) * 256 + c) * 256 + d
  reqs[#reqs + 1] = data:sub(pos + 4, pos + 3 + len)
  pos = pos + 4 + len
end
data = nil
assert(#reqs > 0, "no requests in BENCH_REQUESTS")

local headers = { ["Content-Type"] = "message/ohttp-req" }
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then headers["Authorization"] = "Basic " .. auth end
local next_req = 0

function request()
  next_req = next_req + 1
  if next_req > #reqs then next_req = 1 end
  return wrk.format("POST", nil, headers, reqs[next_req])
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
