--[[
  drain: delete up to `limit` waiting and delayed jobs (Bull's queue.empty()).
  Called in a loop until it returns 0, so a huge queue never blocks Redis long.

  KEYS[1] wait list   KEYS[2] prioritized zset   KEYS[3] delayed zset   KEYS[4] events stream
  KEYS[5] limited zset

  ARGV[1] limit   ARGV[2] job key prefix   ARGV[3] logs prefix   ARGV[4] events max length

  Returns: number of jobs deleted.
  Events: "cleaned" (count, state = "waiting") when anything was deleted.
]]
--- @include "drop_prioritized"
--- @include "emit"

local limit = tonumber(ARGV[1])
local deleted = 0
-- Records and logs are deleted a few hundred keys per DEL: one command per job made each
-- call of a big queue's empty() block Redis twice as long.
local doomed = {}
local function drop(job_id)
  doomed[#doomed + 1] = ARGV[2] .. job_id
  doomed[#doomed + 1] = ARGV[3] .. job_id
  deleted = deleted + 1
  if #doomed >= 500 then
    redis.call("DEL", unpack(doomed))
    doomed = {}
  end
end
-- The list's tail (the next to run) in one read and one trim, not one RPOP per job.
local ids = redis.call("LRANGE", KEYS[1], -limit, -1)
if #ids > 0 then
  redis.call("LTRIM", KEYS[1], 0, -#ids - 1)
  for _, job_id in ipairs(ids) do drop(job_id) end
end
for _, key in ipairs({KEYS[2], KEYS[3], KEYS[5]}) do
  if deleted < limit then
    local ids = redis.call("ZRANGE", key, 0, limit - deleted - 1)
    for _, job_id in ipairs(ids) do
      if key == KEYS[2] then drop_prioritized(key, job_id) else redis.call("ZREM", key, job_id) end
      drop(job_id)
    end
  end
end
if #doomed > 0 then redis.call("DEL", unpack(doomed)) end
if deleted > 0 then
  emit(KEYS[4], ARGV[4], "cleaned", "", "count", deleted, "state", "waiting")
end
return deleted
