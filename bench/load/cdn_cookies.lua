-- wrk script for scripts/load: drives one edgepass endpoint and checks every answer.
--
--   wrk ... -s bench/load/cdn_cookies.lua URL -- cookies SESSION   POST /api/cdn/cookies with the session
--   wrk ... -s bench/load/cdn_cookies.lua URL -- healthz           GET /healthz (a baseline)
--
-- A request counts as good only when it is answered 200 and, for cookies, carries a CloudFront
-- Set-Cookie header. done() prints one line, `edgepass-load key=value ...`, for scripts/load to read.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local mode

function init(args)
  mode = args[1] or "cookies"
  ok, bad_status, no_cookie, statuses = 0, 0, 0, {}
  if mode == "cookies" then
    local session = args[2]
    if not session or session == "" then
      error("cookies mode needs the edgepass_session value as its second argument")
    end
    wrk.method = "POST"
    wrk.body = ""  -- wrk then sends Content-Length: 0
    wrk.headers["Cookie"] = "edgepass_session=" .. session
  elseif mode == "healthz" then
    wrk.method = "GET"
  else
    error("unknown mode " .. tostring(mode))
  end
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    statuses[status] = (statuses[status] or 0) + 1
    return
  end
  if mode == "cookies" then
    -- wrk keeps one value per header name (the last); any of the three CloudFront cookies will do here,
    -- scripts/load checks the full set once with curl before the run.
    local cookie = headers["set-cookie"] or headers["Set-Cookie"] or ""
    if cookie:sub(1, 11) ~= "CloudFront-" or not body:find('"expires_at"', 1, true) then
      no_cookie = no_cookie + 1
      return
    end
  end
  ok = ok + 1
end

function done(summary, latency, requests)
  local good, bad, missing, by_status = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    bad = bad + thread:get("bad_status")
    missing = missing + thread:get("no_cookie")
    for status, n in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + n
    end
  end
  local list = {}
  for status, n in pairs(by_status) do
    table.insert(list, status .. ":" .. n)
  end
  local e = summary.errors
  io.write(string.format(
    "edgepass-load requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f "
      .. "ok=%d bad_status=%d no_cookie=%d statuses=%s connect_errors=%d read_errors=%d write_errors=%d "
      .. "timeouts=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    good, bad, missing, (#list > 0) and table.concat(list, ",") or "-",
    e.connect, e.read, e.write, e.timeout))
end
