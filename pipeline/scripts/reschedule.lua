--[[
  reschedule: a delayed job's new due time (job.change_delay) or now (job.promote).

  KEYS[1] job key   KEYS[2] delayed zset   KEYS[3] wait list   KEYS[4] prioritized zset
  KEYS[5] priority seq   KEYS[6] marker list   KEYS[7] events stream

  ARGV[1] job id   ARGV[2] delay ms from now (0 = promote; the due time counts on
  Redis's clock)   ARGV[3] events max length

  Returns (codes of pipeline/codes.py): DONE; NO_SUCH_JOB; WRONG_STATE the job is not delayed.
  Events: "waiting" (prev = delayed) when promoted, else "delayed" (delay = due time).
]]
--- @include "codes"
--- @include "emit"
--- @include "mark_waiting"
--- @include "push_waiting"
--- @include "read_record"
--- @include "redis_ms"
--- @include "wake"

local job_key = KEYS[1]
local job_id = ARGV[1]
if redis.call("ZSCORE", KEYS[2], job_id) == false then
  if redis.call("EXISTS", job_key) == 0 then return NO_SUCH_JOB end
  return WRONG_STATE
end
local delay = tonumber(ARGV[2])
if delay > 0 then
  local due = redis_ms() + delay
  redis.call("ZADD", KEYS[2], due, job_id)
  emit(KEYS[7], ARGV[3], "delayed", job_id, "delay", due)
else
  redis.call("ZREM", KEYS[2], job_id)
  local kind, _, prio = read_record(job_key)
  mark_waiting(job_key, kind)
  push_waiting(KEYS[3], KEYS[4], KEYS[5], job_id, prio, false)
  emit(KEYS[7], ARGV[3], "waiting", job_id, "prev", "delayed")
end
wake(KEYS[6])
return DONE
