--[[
  note_activity(grace_key, clock, lock_ms): records a worker's visit (clock: Redis's, ms).

  Outages: when no worker reaches Redis for a while (Redis restarted, or the
  network failed), every lock lapses at once although the workers holding them
  may be alive and about to renew.  The queue's stall-grace hash records when a
  worker last touched the queue ("seen": a renewal or a sweep) and the last
  silence longer than half a lock ("from", "to"); grace_floor reads it.
]]
local function note_activity(grace_key, clock, lock_ms)
  local seen = tonumber(redis.call("HGET", grace_key, "seen"))
  if seen and clock - seen > lock_ms / 2 then
    redis.call("HSET", grace_key, "from", seen, "to", clock)
  end
  redis.call("HSET", grace_key, "seen", clock)
end
