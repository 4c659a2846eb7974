--[[
  extend_locks: a live worker process renews the locks of the jobs it holds on
  one queue, says it is alive (holders set), and learns which of its jobs were
  cancelled or taken away.

  A lock is re-asserted whenever the job is still this worker's (state active,
  same token), also when it is missing from the active set.  A job a stall sweep
  put back to waiting while this worker could not reach Redis, and that no
  worker has taken since (same token, marked "reclaimed" with it), is taken
  back: it is still running here, so it must not start again elsewhere, and the
  stall is not counted.

  KEYS[1] active zset   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] limited zset
  KEYS[5] holders zset  KEYS[6] stall-grace hash   KEYS[7] events stream

  ARGV[1] lock duration ms (the new expiry counts on Redis's clock)   ARGV[2] job key prefix
  ARGV[3] this process's holder member, "<stalled interval ms>|<lock ms>|<process id>" ("" none)
  ARGV[4] events max length
  ARGV[5..] pairs: job id, lock token

  Returns: { {ids whose cancel was requested}, {ids another worker or a stall sweep
  took from this one}, {ids taken back} }; a job that finished (or is gone)
  meanwhile is none of these.
  Events: "active" (prev = waiting, retaken = 1) per job taken back.
]]
--- @include "keys"
--- @include "emit"
--- @include "note_activity"
--- @include "redis_ms"

local clock = redis_ms()
local lock_ms = tonumber(ARGV[1])
local lock_until = clock + lock_ms
note_activity(KEYS[6], clock, lock_ms)
if ARGV[3] ~= "" then redis.call("ZADD", KEYS[5], clock, ARGV[3]) end
local cancelled, lost, retaken = {}, {}, {}
for i = 5, #ARGV, 2 do
  local job_id, token = ARGV[i], ARGV[i + 1]
  local job_key = ARGV[2] .. job_id
  local fields = redis.call("HMGET", job_key, "state", "token", "cancelled", "reclaimed")
  local ours = fields[2] == token
  if ours and fields[1] == "waiting" and fields[4] == token then
    redis.call("LREM", KEYS[2], 0, job_id)
    redis.call("ZREM", KEYS[3], job_id)
    redis.call("ZREM", KEYS[3] .. KEY_PRIORITY_AGE, job_id)
    redis.call("ZREM", KEYS[4], job_id)
    redis.call("HSET", job_key, "state", "active")
    redis.call("HDEL", job_key, "reclaimed")
    if (tonumber(redis.call("HGET", job_key, "stalled_count")) or 0) > 0 then
      redis.call("HINCRBY", job_key, "stalled_count", -1)
    end
    emit(KEYS[7], ARGV[4], "active", job_id, "prev", "waiting", "retaken", "1")
    retaken[#retaken + 1] = job_id
    fields[1] = "active"
  end
  if ours and fields[1] == "active" then
    redis.call("ZADD", KEYS[1], lock_until, job_id)
    if fields[3] then cancelled[#cancelled + 1] = job_id end
  elseif fields[1] and fields[1] ~= "completed" and fields[1] ~= "failed" then
    lost[#lost + 1] = job_id
  end
end
return {cancelled, lost, retaken}
