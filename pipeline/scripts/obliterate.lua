--[[
  obliterate: delete up to `limit` jobs of a queue, whatever their state, with
  their logs (Bull's queue.obliterate()).  Called in a loop until it returns 0;
  the caller then deletes the queue's remaining keys.  Refuses while jobs are
  running unless forced: a running job's worker would write to a deleted queue.

  KEYS[1] wait list   KEYS[2] prioritized zset   KEYS[3] delayed zset   KEYS[4] limited zset
  KEYS[5] completed zset   KEYS[6] failed zset   KEYS[7] active zset

  ARGV[1] limit   ARGV[2] job key prefix   ARGV[3] logs prefix   ARGV[4] "1" to delete active jobs too

  Returns: number of jobs deleted; ACTIVE (of pipeline/codes.py) jobs are active and
  ARGV[4] is not "1" (nothing deleted).
  Events: none (the stream goes with the queue).
]]
--- @include "codes"
--- @include "drop_prioritized"

local limit = tonumber(ARGV[1])
if ARGV[4] ~= "1" and redis.call("ZCARD", KEYS[7]) > 0 then
  return ACTIVE
end
local deleted = 0
local function drop(job_id)
  redis.call("DEL", ARGV[2] .. job_id, ARGV[3] .. job_id)
  deleted = deleted + 1
end
while deleted < limit do
  local job_id = redis.call("RPOP", KEYS[1])
  if not job_id then break end
  drop(job_id)
end
for i = 2, 7 do
  if deleted < limit then
    local ids = redis.call("ZRANGE", KEYS[i], 0, limit - deleted - 1)
    for _, job_id in ipairs(ids) do
      if i == 2 then drop_prioritized(KEYS[i], job_id) else redis.call("ZREM", KEYS[i], job_id) end
      drop(job_id)
    end
  end
end
return deleted
