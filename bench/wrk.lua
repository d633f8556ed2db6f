-- wrk script: POST one GraphQL request over and over, check every response, and print the
-- summary as one JSON line. Arguments (after `--`): the request body file, the bearer token.
-- A response counts as an error unless it is HTTP 200 without a GraphQL "errors" member.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local body = file:read("*a")
  file:close()
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[2],
  }
  prepared = wrk.format("POST", nil, headers, body)
  responses, failures, body_bytes, statements, statement_min, statement_max = 0, 0, 0, 0, 1e9, 0
end

function request()
  return prepared
end

function response(status, headers, body)
  responses = responses + 1
  body_bytes = body_bytes + #body
  if status ~= 200 or string.find(body, '"errors":', 1, true) then
    failures = failures + 1
  end
  local count = string.match(string.sub(body, -200), '"sqlStatements":(%d+)')
  if count then
    count = tonumber(count)
    statements = statements + count
    if count < statement_min then statement_min = count end
    if count > statement_max then statement_max = count end
  end
end

function done(summary, latency, requests)
  local total = { responses = 0, failures = 0, body_bytes = 0, statements = 0 }
  local smin, smax = 1e9, 0
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do
      total[key] = total[key] + thread:get(key)
    end
    smin = math.min(smin, thread:get("statement_min"))
    smax = math.max(smax, thread:get("statement_max"))
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "responses": %d, "failures": %d, '
      .. '"body_bytes": %d, "statements": %d, "statement_min": %d, "statement_max": %d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99), latency.max,
    total.responses, total.failures, total.body_bytes, total.statements, smin, smax))
end
