--[[
  grace_floor(grace_key, holders_key, clock, lock_ms) -> nil when no grace applies, else
  the time (Redis's clock) before which a lapsed lock may be reclaimed now.
  A sweep leaves alone the jobs whose lock lapsed during the last outage (see
  note_activity) until their workers have had one lock duration after it to come
  back and renew them, or until every worker that was alive when it began has
  renewed since (see the holders set).  A dead worker's jobs are reclaimed after
  that grace; outside an outage none applies.
  Holders: "<stalled interval ms>|<lock ms>|<process id>" scored by its last renewal.
]]
local function grace_floor(grace_key, holders_key, clock, lock_ms)
  local gap = redis.call("HMGET", grace_key, "from", "to")
  local from, to = tonumber(gap[1]), tonumber(gap[2])
  if not from or clock >= to + lock_ms then return nil end
  if redis.call("ZCOUNT", holders_key, from - lock_ms, "(" .. to) == 0 then return nil end
  return from
end
