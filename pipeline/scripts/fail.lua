--[[
  fail: active -> failed, after the last attempt (or an unrecoverable error).

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] failed zset   KEYS[4] job logs

  ARGV[1] job id    ARGV[2] lock token    ARGV[3] now (epoch ms)
  ARGV[4] failed reason    ARGV[5] this attempt's stack trace   ARGV[6] stack traces kept
  ARGV[7] keep: -1 keep every failed job, 0 remove this one now, N keep the newest N
  ARGV[8] job key prefix   ARGV[9] logs key prefix

  Returns: 1 done; -1 rejected (the job is no longer this worker's).
]]
--- @include "trim_finished"
--- @include "append_stacktrace"

local job_key = KEYS[1]
local job_id = ARGV[1]
local state = redis.call("HMGET", job_key, "state", "token")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return -1
end
redis.call("ZREM", KEYS[2], job_id)
local keep = tonumber(ARGV[7])
if keep == 0 then
  redis.call("DEL", job_key, KEYS[4])
  return 1
end
redis.call("HSET", job_key, "state", "failed", "finished_on", ARGV[3], "failed_reason", ARGV[4])
append_stacktrace(job_key, ARGV[5], tonumber(ARGV[6]))
redis.call("HINCRBY", job_key, "attempts_made", 1)
redis.call("ZADD", KEYS[3], ARGV[3], job_id)
if keep > 0 then
  trim_finished(KEYS[3], keep, ARGV[8], ARGV[9])
end
return 1
