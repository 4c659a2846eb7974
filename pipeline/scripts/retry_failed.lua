--[[
  retry_failed: failed -> waiting (Bull's job.retry()).  attempts_made is kept,
  so the job gets one more attempt beyond those it used.

  KEYS[1] job key   KEYS[2] failed zset   KEYS[3] wait list   KEYS[4] prioritized zset
  KEYS[5] marker list   KEYS[6] priority seq   KEYS[7] events stream

  ARGV[1] job id   ARGV[2] events max length

  Returns (codes of pipeline/codes.py): DONE; NO_SUCH_JOB; WRONG_STATE the job is not failed.
  Events: "waiting" (prev = failed).
]]
--- @include "codes"
--- @include "emit"
--- @include "push_waiting"
--- @include "wake"

local job_key = KEYS[1]
if redis.call("TYPE", job_key)["ok"] ~= "hash" then
  if redis.call("EXISTS", job_key) == 0 then return NO_SUCH_JOB end
  return WRONG_STATE
end
local fields = redis.call("HMGET", job_key, "state", "priority")
if fields[1] ~= "failed" then
  return WRONG_STATE
end
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("HSET", job_key, "state", "waiting")
redis.call("HDEL", job_key, "finished_on", "processed_on", "failed_reason", "stacktrace", "cancelled")
push_waiting(KEYS[3], KEYS[4], KEYS[6], ARGV[1], tonumber(fields[2]) or 0, false)
emit(KEYS[7], ARGV[2], "waiting", ARGV[1], "prev", "failed")
wake(KEYS[5])
return DONE
