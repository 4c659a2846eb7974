--[[
  retry_all: failed -> waiting for up to `limit` failed jobs, the oldest failure
  first (Bull's queue.retryJobs()).  As with retry_failed, attempts_made is kept.
  Called in a loop until it returns 0, so a huge queue never blocks Redis long.

  KEYS[1] failed zset   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] marker list
  KEYS[5] priority seq   KEYS[6] events stream

  ARGV[1] limit   ARGV[2] job key prefix   ARGV[3] events max length

  Returns: number of ids taken off the failed set (records already gone are only unlisted).
  Events: "waiting" (prev = failed) per job.
]]
--- @include "emit"
--- @include "push_waiting"
--- @include "read_record"
--- @include "wake"

local ids = redis.call("ZRANGE", KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, job_id in ipairs(ids) do
  local job_key = ARGV[2] .. job_id
  redis.call("ZREM", KEYS[1], job_id)
  local kind, _, priority = read_record(job_key)
  if kind == "hash" then
    redis.call("HSET", job_key, "state", "waiting")
    redis.call("HDEL", job_key, "finished_on", "processed_on", "failed_reason", "stacktrace", "cancelled")
    push_waiting(KEYS[2], KEYS[3], KEYS[5], job_id, priority, false)
    emit(KEYS[6], ARGV[3], "waiting", job_id, "prev", "failed")
  end
end
if #ids > 0 then wake(KEYS[4]) end
return #ids
