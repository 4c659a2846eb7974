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
--- @include "read_record"
--- @include "wake"

local job_key = KEYS[1]
local kind, state, priority = read_record(job_key)
if kind == "none" then
  return NO_SUCH_JOB
elseif kind ~= "hash" or state ~= "failed" then
  return WRONG_STATE
end
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("HSET", job_key, "state", "waiting")
redis.call("HDEL", job_key, "finished_on", "processed_on", "failed_reason", "stacktrace", "cancelled")
push_waiting(KEYS[3], KEYS[4], KEYS[6], ARGV[1], priority, false)
emit(KEYS[7], ARGV[2], "waiting", ARGV[1], "prev", "failed")
wake(KEYS[5])
return DONE
