--[[
  promote_all: delayed -> waiting for up to `limit` delayed jobs, the soonest due
  first (Bull's queue.promoteJobs()).  Called in a loop until it returns 0, so a
  huge queue never blocks Redis long.

  KEYS[1] delayed zset   KEYS[2] wait list   KEYS[3] prioritized zset   KEYS[4] priority seq
  KEYS[5] marker list   KEYS[6] events stream

  ARGV[1] limit   ARGV[2] job key prefix   ARGV[3] events max length

  Returns: number of jobs promoted.
  Events: "waiting" (prev = delayed) per job.
]]
--- @include "emit"
--- @include "mark_waiting"
--- @include "push_waiting"
--- @include "read_record"
--- @include "wake"

local ids = redis.call("ZRANGE", KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, job_id in ipairs(ids) do
  local job_key = ARGV[2] .. job_id
  redis.call("ZREM", KEYS[1], job_id)
  local kind, _, prio = read_record(job_key)
  if kind == "string" or kind == "hash" then
    mark_waiting(job_key, kind)
  end
  if kind ~= "none" then
    push_waiting(KEYS[2], KEYS[3], KEYS[4], job_id, prio, false)
    emit(KEYS[6], ARGV[3], "waiting", job_id, "prev", "delayed")
  end
end
if #ids > 0 then wake(KEYS[5]) end
return #ids
