--[[
  record_metric(metrics_prefix, kind, name, now, duration)
  Counts a finished job per minute for its job name: one HINCRBY on the field
  of the current minute.  The first count of a minute also records the name
  and, once the ring holds more than a week of minutes (10080), deletes the
  oldest, so memory stays fixed.  Completed jobs also push their duration (ms)
  on a list trimmed to the newest 1000, for percentiles.
  All-time counters for Prometheus go to the hash <prefix>totals: "<kind>:<name>"
  for failed jobs; for completed jobs the duration histogram "bucket:<name>:<upper
  bound ms or inf>" (the count of its own bucket; readers add them up, and their
  sum is the completed count, so no counter of its own costs a command per job)
  and "sum:<name>" (ms).
  Keys used (same slot as the queue): <prefix><kind>:<name>, <prefix>durations:<name>,
  <prefix>names (set of job names seen), <prefix>totals.
]]
--- @include "keys"
-- Upper bounds (ms) of the duration histogram; pipeline/prometheus.py reads the same list.
local DURATION_BUCKETS_MS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000}

local function record_metric(metrics_prefix, kind, name, now, duration)
  local minute = math.floor(now / 60000)
  local ring = metrics_prefix .. kind .. KEY_METRIC_RING .. name
  if redis.call("HINCRBY", ring, minute, 1) == 1 then
    redis.call("SADD", metrics_prefix .. KEY_METRIC_NAMES, name)
    if redis.call("HLEN", ring) > 10080 then
      for _, field in ipairs(redis.call("HKEYS", ring)) do
        if tonumber(field) <= minute - 10080 then redis.call("HDEL", ring, field) end
      end
    end
  end
  local totals = metrics_prefix .. KEY_METRIC_TOTALS
  if not duration then
    redis.call("HINCRBY", totals, kind .. ":" .. name, 1)
  else
    local bound = "inf"
    for _, upper in ipairs(DURATION_BUCKETS_MS) do
      if duration <= upper then bound = upper break end
    end
    redis.call("HINCRBY", totals, "bucket:" .. name .. ":" .. bound, 1)
    redis.call("HINCRBY", totals, "sum:" .. name, math.floor(duration))
    local durations = metrics_prefix .. KEY_METRIC_DURATIONS .. name
    if redis.call("LPUSH", durations, duration) > 1100 then
      redis.call("LTRIM", durations, 0, 999)
    end
  end
end
