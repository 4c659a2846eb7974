--[[
  fail: active -> failed, after the last attempt, an unrecoverable error or a cancel.

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] failed zset   KEYS[4] job logs
  KEYS[5] events stream

  ARGV[1] job id    ARGV[2] lock token    ARGV[3] now (epoch ms)
  ARGV[4] failed reason    ARGV[5] this attempt's stack trace   ARGV[6] stack traces kept
  ARGV[7] keep: -1 keep every failed job, 0 remove this one now, N keep the newest N
  ARGV[8] job key prefix   ARGV[9] logs key prefix   ARGV[10] events max length
  ARGV[11] job name        ARGV[12] metrics key prefix
  ARGV[13] "1" when the job used all its attempts
  ARGV[14] deduplication key to free if this job owns it ("" none)

  Returns (codes of pipeline/codes.py): DONE; NOT_HELD the job is no longer this worker's.
  Events: "failed" (reason, prev = active), then "retries-exhausted" when ARGV[13] is "1".
]]
--- @include "codes"
--- @include "append_stacktrace"
--- @include "emit"
--- @include "finish_score"
--- @include "record_metric"
--- @include "release_dedup"
--- @include "trim_finished"

local job_key = KEYS[1]
local job_id = ARGV[1]
local now = tonumber(ARGV[3])
local state = redis.call("HMGET", job_key, "state", "token")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return NOT_HELD
end
redis.call("ZREM", KEYS[2], job_id)
release_dedup(ARGV[14], job_id)
record_metric(ARGV[12], "failed", ARGV[11], now, nil)
emit(KEYS[5], ARGV[10], "failed", job_id, "reason", ARGV[4], "prev", "active")
if ARGV[13] == "1" then
  emit(KEYS[5], ARGV[10], "retries-exhausted", job_id)
end
local keep = tonumber(ARGV[7])
if keep == 0 then
  redis.call("DEL", job_key, KEYS[4])
  return DONE
end
redis.call("HSET", job_key, "state", "failed", "finished_on", now, "failed_reason", ARGV[4])
append_stacktrace(job_key, ARGV[5], tonumber(ARGV[6]))
redis.call("HINCRBY", job_key, "attempts_made", 1)
redis.call("ZADD", KEYS[3], finish_score(), job_id)
if keep > 0 then
  trim_finished(KEYS[3], keep, ARGV[8], ARGV[9])
end
return DONE
