--[[
  record_metric(metrics_prefix, kind, name, now, duration)
  Counts a finished job per minute for its job name: one HINCRBY on the field
  of the current minute.  The first count of a minute also records the name
  and, once the ring holds more than a week of minutes (METRIC_RING_MINUTES),
  deletes the oldest, so memory stays fixed.  Completed jobs also push their
  duration (ms) on a list trimmed to the newest METRIC_DURATIONS_KEPT, for percentiles.
  All-time counters for Prometheus go to the hash <prefix>totals: "<kind>:<name>"
  for failed jobs; for completed jobs the duration histogram "bucket:<name>:<upper
  bound ms or inf>" (the count of its own bucket; readers add them up, and their
  sum is the completed count, so no counter of its own costs a command per job)
  and "sum:<name>" (ms).
  Keys used (same slot as the queue): <prefix><kind>:<name>, <prefix>durations:<name>,
  <prefix>names (set of job names seen), <prefix>totals.
]]
--- @include "keys"
--- @include "metrics"

local function record_metric(metrics_prefix, kind, name, now, duration)
  local minute = math.floor(now / 60000)
  local ring = metrics_prefix .. kind .. KEY_METRIC_RING .. name
  if redis.call("HINCRBY", ring, minute, 1) == 1 then
    redis.call("SADD", metrics_prefix .. KEY_METRIC_NAMES, name)
    if redis.call("HLEN", ring) > METRIC_RING_MINUTES then
      for _, field in ipairs(redis.call("HKEYS", ring)) do
        if tonumber(field) <= minute - METRIC_RING_MINUTES then redis.call("HDEL", ring, field) end
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
    if redis.call("LPUSH", durations, duration) > METRIC_DURATIONS_KEPT + 100 then
      redis.call("LTRIM", durations, 0, METRIC_DURATIONS_KEPT - 1)
    end
  end
end
