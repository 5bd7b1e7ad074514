-- wrk script of the pgsession benchmark.
-- Arguments (after --): the path to request, then optionally a file of Cookie header
-- values, one a line (the pre-created sessions). Each request takes the next cookie,
-- round robin; each thread starts at a different place in the list.
-- done() prints one line "WRK_JSON {...}" with the counts and exact latency percentiles.

local threads = 0
local cookies = {}
local position = 1
local path = "/"

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  path = args[1] or "/"
  local file = args[2]
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then cookies[#cookies + 1] = line end
    end
  end
  if #cookies > 0 then
    position = ((thread_index or 0) * 7919) % #cookies + 1
  end
end

function request()
  if #cookies == 0 then
    return wrk.format("GET", path)
  end
  local cookie = cookies[position]
  position = position % #cookies + 1
  return wrk.format("GET", path, { ["Cookie"] = cookie })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
