--[[
  stalled: reclaim running jobs whose lock expired (worker killed, frozen, or
  stuck holding the GIL).  Each goes back to the front of waiting and runs
  again; past `max_stalled` stalls it fails instead.  Jobs handed to an idle
  worker that went away before reading its inbox go back first, without
  counting a stall: they never started.

  Pacing: a guard key (the time of the last sweep) makes one process per
  interval do the sweep, whichever worker gets there first; the interval is the
  shortest stalled interval among the live workers of the queue (holders set)
  and the sweeper's own, so a worker with a longer setting never holds back
  one with a shorter.

  Outages (see includes/grace_floor.lua): after a silence in which no worker
  reached Redis, locks that lapsed during it are left alone for one lock
  duration, so live workers renew them instead of having them reclaimed.  A job
  moved back to waiting is marked "reclaimed" with its token: if its worker was
  alive after all and renews before anyone takes it, it takes it back
  (extend_locks), uncounted.

  KEYS[1] active zset   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] priority seq
  KEYS[5] marker list   KEYS[6] events stream   KEYS[7] failed zset   KEYS[8] sweep guard key
  KEYS[9] idle consumers zset   KEYS[10] handed consumers zset   KEYS[11] holders zset
  KEYS[12] stall-grace hash

  ARGV[1] now (epoch ms)   ARGV[2] job key prefix   ARGV[3] max stalled count
  ARGV[4] events max length   ARGV[5] this worker's sweep interval ms
  ARGV[6] this worker's lock duration ms

  Returns: {job id, outcome ("waiting" or "failed"), ...}; {} when another process swept.
  Events: "waiting" (prev = active) per job taken back from a lapsed inbox;
  "stalled" per reclaimed job, then "waiting" (prev = active) or "failed"
  (reason) and "retries-exhausted".
]]
--- @include "emit"
--- @include "finish_score"
--- @include "grace_floor"
--- @include "note_activity"
--- @include "push_waiting"
--- @include "reap_idle"
--- @include "redis_ms"
--- @include "wake"

local clock = redis_ms()
local lock_ms = tonumber(ARGV[6])
local interval = tonumber(ARGV[5])
local holders = redis.call("ZRANGE", KEYS[11], 0, -1, "WITHSCORES")
for i = 1, #holders, 2 do
  local every, lock = string.match(holders[i], "^(%d+)|(%d+)|")
  if every and tonumber(holders[i + 1]) + tonumber(lock) >= clock and tonumber(every) < interval then
    interval = tonumber(every)
  end
end
-- The guard holds when the last sweep ran: a sweeper with a shorter interval than the one
-- that set it goes ahead on its own schedule.
local last = tonumber(redis.call("GET", KEYS[8]))
if last and clock - last < interval then
  return {}
end
redis.call("SET", KEYS[8], clock, "PX", math.max(interval, 1))
-- Holders silent for ten locks (at least a minute) went away long ago.
redis.call("ZREMRANGEBYSCORE", KEYS[11], "-inf", "(" .. (clock - math.max(10 * lock_ms, 60000)))
note_activity(KEYS[12], clock, lock_ms)
local now = tonumber(ARGV[1])
local max_len = ARGV[4]
local out = {}
local returned = reap_idle({
  active = KEYS[1], wait = KEYS[2], prio = KEYS[3], seq = KEYS[4], events = KEYS[6], max_len = max_len,
  prefix = ARGV[2], idle = KEYS[9], handed = KEYS[10],
}, clock)
-- Locks expire on Redis's clock, whatever this sweeper's clock says.
local upto = clock
local floor = grace_floor(KEYS[12], KEYS[11], clock, lock_ms)
if floor and floor < upto then upto = floor end
local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", upto, "LIMIT", 0, 1000)
for _, job_id in ipairs(expired) do
  redis.call("ZREM", KEYS[1], job_id)
  local job_key = ARGV[2] .. job_id
  local fields = redis.call("HMGET", job_key, "state", "priority", "token")
  if fields[1] == "active" then
    local stalls = redis.call("HINCRBY", job_key, "stalled_count", 1)
    emit(KEYS[6], max_len, "stalled", job_id)
    if stalls > tonumber(ARGV[3]) then
      local reason = "job stalled more than allowable limit"
      redis.call("HSET", job_key, "state", "failed", "finished_on", now, "failed_reason", reason)
      redis.call("ZADD", KEYS[7], finish_score(), job_id)
      emit(KEYS[6], max_len, "failed", job_id, "reason", reason, "prev", "active")
      emit(KEYS[6], max_len, "retries-exhausted", job_id)
      out[#out + 1] = job_id
      out[#out + 1] = "failed"
    else
      redis.call("HSET", job_key, "state", "waiting", "reclaimed", fields[3] or "")
      push_waiting(KEYS[2], KEYS[3], KEYS[4], job_id, tonumber(fields[2]) or 0, true)
      emit(KEYS[6], max_len, "waiting", job_id, "prev", "active")
      out[#out + 1] = job_id
      out[#out + 1] = "waiting"
    end
  end
end
if #out > 0 or returned > 0 then wake(KEYS[5]) end
return out
