--[[
  record_metric(metrics_prefix, kind, name, now, duration)
  Counts a finished job per minute for its job name, in a ring of one week of
  minutes (10080 fields of "minute:count"), so memory stays fixed; keeps the
  newest 1000 durations (ms) of completed jobs for percentiles.
  Keys used (same slot as the queue): <prefix><kind>:<name>, <prefix>durations:<name>,
  <prefix>names (set of job names seen).
]]
local function record_metric(metrics_prefix, kind, name, now, duration)
  local minute = math.floor(now / 60000)
  local slot = minute % 10080
  local ring = metrics_prefix .. kind .. ":" .. name
  local cell = redis.call("HGET", ring, slot)
  local count = 1
  if cell then
    local m, c = string.match(cell, "^(%d+):(%d+)$")
    if tonumber(m) == minute then count = tonumber(c) + 1 end
  end
  redis.call("HSET", ring, slot, minute .. ":" .. count)
  redis.call("SADD", metrics_prefix .. "names", name)
  if duration then
    local durations = metrics_prefix .. "durations:" .. name
    redis.call("LPUSH", durations, duration)
    redis.call("LTRIM", durations, 0, 999)
  end
end
