--[[
  retry: active -> delayed (backoff > 0) or waiting, after a failed attempt
  that has attempts left.  The failed reason of the attempt stays on the record.

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] wait list   KEYS[4] prioritized zset
  KEYS[5] delayed zset   KEYS[6] marker list   KEYS[7] priority seq   KEYS[8] events stream

  ARGV[1] job id    ARGV[2] lock token
  ARGV[3] backoff delay ms (the due time counts on Redis's clock)   ARGV[4] failed reason
  ARGV[5] this attempt's stack trace   ARGV[6] stack traces kept   ARGV[7] events max length

  Returns (codes of pipeline/codes.py): DONE; NOT_HELD the job is no longer this
  worker's; CANCEL_PENDING a cancel was requested (nothing changed: the caller
  fails the job instead).
  Events: "delayed" (delay = due time, reason) or "waiting" (prev = active, reason).
]]
--- @include "codes"
--- @include "append_stacktrace"
--- @include "emit"
--- @include "push_waiting"
--- @include "redis_ms"
--- @include "wake"

local job_key = KEYS[1]
local job_id = ARGV[1]
local state = redis.call("HMGET", job_key, "state", "token", "priority", "cancelled")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return NOT_HELD
end
if state[4] then
  return CANCEL_PENDING
end
redis.call("ZREM", KEYS[2], job_id)
redis.call("HINCRBY", job_key, "attempts_made", 1)
local delay = tonumber(ARGV[3])
local next_state = "waiting"
if delay > 0 then next_state = "delayed" end
redis.call("HSET", job_key, "state", next_state, "failed_reason", ARGV[4])
append_stacktrace(job_key, ARGV[5], tonumber(ARGV[6]))
if delay > 0 then
  local due = redis_ms() + delay
  redis.call("ZADD", KEYS[5], due, job_id)
  emit(KEYS[8], ARGV[7], "delayed", job_id, "delay", due, "reason", ARGV[4])
else
  push_waiting(KEYS[3], KEYS[4], KEYS[7], job_id, tonumber(state[3]) or 0, false)
  emit(KEYS[8], ARGV[7], "waiting", job_id, "prev", "active", "reason", ARGV[4])
end
wake(KEYS[6])
return DONE
