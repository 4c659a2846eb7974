--[[
  complete: active -> completed, storing the handler's result.

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] completed zset   KEYS[4] events stream

  ARGV[1] job id    ARGV[2] lock token    ARGV[3] now (epoch ms)
  ARGV[4] result (JSON)
  ARGV[5] keep: -1 keep every completed job, 0 remove this one now, N keep the newest N
  ARGV[6] events max length   ARGV[7] job name
  ARGV[8] deduplication id to free if this job owns it ("" none)

  Derived from the job key (same slot): the job's logs, the queue's metrics and
  deduplication keys, and the record prefixes used to trim.

  Returns: 1 done; -1 rejected (the job is no longer this worker's: removed,
  reclaimed after a stall, or already finished); -3 a cancel was requested
  (nothing changed: the caller fails the job with the cancel reason).
  Events: "completed" (result, prev = active).
]]
--- @include "trim_finished"
--- @include "emit"
--- @include "record_metric"
--- @include "dedup"
--- @include "queue_base"

local job_key = KEYS[1]
local job_id = ARGV[1]
local now = tonumber(ARGV[3])
local state = redis.call("HMGET", job_key, "state", "token", "cancelled", "processed_on")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return -1
end
if state[3] then
  return -3
end
local base = queue_base(job_key, job_id)
redis.call("ZREM", KEYS[2], job_id)
if ARGV[8] ~= "" then release_dedup(base .. "dedup:" .. ARGV[8], job_id) end
record_metric(base .. "metrics:", "completed", ARGV[7], now, now - (tonumber(state[4]) or now))
emit(KEYS[4], ARGV[6], "completed", job_id, "result", ARGV[4], "prev", "active")
local keep = tonumber(ARGV[5])
if keep == 0 then
  redis.call("DEL", job_key, base .. "logs:" .. job_id)
  return 1
end
redis.call("HSET", job_key, "state", "completed", "finished_on", now, "result", ARGV[4])
redis.call("HINCRBY", job_key, "attempts_made", 1)
redis.call("ZADD", KEYS[3], now, job_id)
if keep > 0 then
  trim_finished(KEYS[3], keep, base .. "j:", base .. "logs:")
end
return 1
