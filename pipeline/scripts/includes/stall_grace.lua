--[[
  Outages: when no worker reaches Redis for a while (Redis restarted, or the
  network failed), every lock lapses at once although the workers holding them
  may be alive and about to renew.  The queue's stall-grace hash records when a
  worker last touched the queue ("seen": a renewal or a sweep) and the last
  silence longer than half a lock ("from", "to").  A sweep then leaves alone the
  jobs whose lock lapsed during that silence until their workers have had one
  lock duration after it to come back and renew them, or until every worker that
  was alive when it began has renewed since (see the holders set).  A dead
  worker's jobs are reclaimed after that grace; outside an outage none applies.

  note_activity(grace_key, clock, lock_ms): records a worker's visit (clock: Redis's, ms).
  grace_floor(grace_key, holders_key, clock, lock_ms) -> nil when no grace applies, else
    the time (Redis's clock) before which a lapsed lock may be reclaimed now.
  Holders: "<stalled interval ms>|<lock ms>|<process id>" scored by its last renewal.
]]
local function note_activity(grace_key, clock, lock_ms)
  local seen = tonumber(redis.call("HGET", grace_key, "seen"))
  if seen and clock - seen > lock_ms / 2 then
    redis.call("HSET", grace_key, "from", seen, "to", clock)
  end
  redis.call("HSET", grace_key, "seen", clock)
end

local function grace_floor(grace_key, holders_key, clock, lock_ms)
  local gap = redis.call("HMGET", grace_key, "from", "to")
  local from, to = tonumber(gap[1]), tonumber(gap[2])
  if not from or clock >= to + lock_ms then return nil end
  if redis.call("ZCOUNT", holders_key, from - lock_ms, "(" .. to) == 0 then return nil end
  return from
end
