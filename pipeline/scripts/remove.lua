--[[
  remove: delete a job that is not running, whatever its state, so it never runs.

  KEYS[1] job key   KEYS[2] job logs   KEYS[3] wait list   KEYS[4] prioritized zset
  KEYS[5] delayed zset   KEYS[6] completed zset   KEYS[7] failed zset   KEYS[8] events stream
  KEYS[9] limited zset (waiting jobs parked by a per-group rate limit)

  ARGV[1] job id   ARGV[2] events max length   ARGV[3] deduplication key prefix

  Returns (codes of pipeline/codes.py): DONE removed; NO_SUCH_JOB; ACTIVE the job is
  active (locked by a worker).
  Events: "removed" (prev = its state).
]]
--- @include "codes"
--- @include "dedup_key_of"
--- @include "emit"
--- @include "read_record"
--- @include "release_dedup"
--- @include "unlist_waiting"

local job_key = KEYS[1]
local job_id = ARGV[1]
local kind, state, prio, msg = read_record(job_key)
if kind ~= "string" and kind ~= "hash" then
  return NO_SUCH_JOB
end
if state == "active" then
  return ACTIVE
elseif state == "waiting" then
  unlist_waiting(KEYS[3], KEYS[4], KEYS[9], job_id, prio)
elseif state == "delayed" then
  redis.call("ZREM", KEYS[5], job_id)
elseif state == "completed" then
  redis.call("ZREM", KEYS[6], job_id)
elseif state == "failed" then
  redis.call("ZREM", KEYS[7], job_id)
end
redis.call("DEL", job_key, KEYS[2])
release_dedup(dedup_key_of(msg, ARGV[3]), job_id)
emit(KEYS[8], ARGV[2], "removed", job_id, "prev", state)
return DONE
