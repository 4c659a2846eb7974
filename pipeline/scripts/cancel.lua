--[[
  cancel: stop a job from anywhere.  A waiting or delayed job fails at once
  with the reason and never starts; a running job gets a cancel request that
  its handler sees through is_cancelled(), and that its worker enforces after
  a grace period.

  KEYS[1] job key   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] delayed zset
  KEYS[5] failed zset   KEYS[6] events stream   KEYS[7] limited zset

  ARGV[1] job id   ARGV[2] reason   ARGV[3] now (epoch ms)   ARGV[4] events max length
  ARGV[5] deduplication key prefix

  Returns (codes of pipeline/codes.py): DONE cancelled now; CANCEL_REQUESTED the
  job is running and its worker was asked to stop it; NO_SUCH_JOB; WRONG_STATE the
  job already finished.
  Events: "failed" (reason, prev) for a job cancelled before it ran.
]]
--- @include "codes"
--- @include "dedup_key_of"
--- @include "emit"
--- @include "finish_score"
--- @include "read_record"
--- @include "release_dedup"
--- @include "unlist_waiting"

local job_key = KEYS[1]
local job_id = ARGV[1]
local kind, state, prio, msg = read_record(job_key)
if kind == "string" then
  redis.call("DEL", job_key)
  redis.call("HSET", job_key, "msg", msg, "state", state, "attempts_made", 0)
  if prio > 0 then redis.call("HSET", job_key, "priority", prio) end
elseif kind ~= "hash" then
  return NO_SUCH_JOB
end
if state == "completed" or state == "failed" then
  return WRONG_STATE
end
if state == "active" then
  redis.call("HSET", job_key, "cancelled", ARGV[2])
  return CANCEL_REQUESTED
end
if state == "delayed" then
  redis.call("ZREM", KEYS[4], job_id)
else
  unlist_waiting(KEYS[2], KEYS[3], KEYS[7], job_id, prio)
end
redis.call("HSET", job_key, "state", "failed", "finished_on", ARGV[3], "failed_reason", ARGV[2],
           "cancelled", ARGV[2])
redis.call("ZADD", KEYS[5], finish_score(), job_id)  -- finished sets are scored on Redis's clock
release_dedup(dedup_key_of(msg, ARGV[5]), job_id)
emit(KEYS[6], ARGV[4], "failed", job_id, "reason", ARGV[2], "prev", state)
return DONE
