--[[
  stalled: reclaim running jobs whose lock expired (worker killed, frozen, or
  stuck holding the GIL).  Each goes back to the front of waiting and runs
  again; past `max_stalled` stalls it fails instead.  Jobs handed to an idle
  worker that went away before reading its inbox go back first, without
  counting a stall: they never started.  A guard key makes one process per
  interval do the sweep, whichever worker gets there first.

  KEYS[1] active zset   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] priority seq
  KEYS[5] marker list   KEYS[6] events stream   KEYS[7] failed zset   KEYS[8] sweep guard key
  KEYS[9] idle consumers zset   KEYS[10] handed consumers zset

  ARGV[1] now (epoch ms)   ARGV[2] job key prefix   ARGV[3] max stalled count
  ARGV[4] events max length   ARGV[5] sweep interval ms (guard lifetime)

  Returns: {job id, outcome ("waiting" or "failed"), ...}; {} when another process swept.
  Events: "waiting" (prev = active) per job taken back from a lapsed inbox;
  "stalled" per reclaimed job, then "waiting" (prev = active) or "failed"
  (reason) and "retries-exhausted".
]]
--- @include "push_waiting"
--- @include "wake"
--- @include "emit"
--- @include "queue_base"
--- @include "put_back"
--- @include "clock"
--- @include "idle"

if not redis.call("SET", KEYS[8], "1", "NX", "PX", ARGV[5]) then
  return {}
end
local now = tonumber(ARGV[1])
local max_len = ARGV[4]
local out = {}
local returned = reap_idle({
  active = KEYS[1], wait = KEYS[2], prio = KEYS[3], seq = KEYS[4], events = KEYS[6], max_len = max_len,
  prefix = ARGV[2], idle = KEYS[9], handed = KEYS[10],
})
-- Locks expire on Redis's clock, whatever this sweeper's clock says.
local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", redis_ms(), "LIMIT", 0, 1000)
for _, job_id in ipairs(expired) do
  redis.call("ZREM", KEYS[1], job_id)
  local job_key = ARGV[2] .. job_id
  local fields = redis.call("HMGET", job_key, "state", "priority")
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
      redis.call("HSET", job_key, "state", "waiting")
      push_waiting(KEYS[2], KEYS[3], KEYS[4], job_id, tonumber(fields[2]) or 0, true)
      emit(KEYS[6], max_len, "waiting", job_id, "prev", "active")
      out[#out + 1] = job_id
      out[#out + 1] = "waiting"
    end
  end
end
if #out > 0 or returned > 0 then wake(KEYS[5]) end
return out
