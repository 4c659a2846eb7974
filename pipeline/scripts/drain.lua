--[[
  drain: delete up to `limit` waiting and delayed jobs (Bull's queue.empty()).
  Called in a loop until it returns 0, so a huge queue never blocks Redis long.

  KEYS[1] wait list   KEYS[2] prioritized zset   KEYS[3] delayed zset   KEYS[4] events stream
  KEYS[5] limited zset

  ARGV[1] limit   ARGV[2] job key prefix   ARGV[3] logs prefix   ARGV[4] events max length

  Returns: number of jobs deleted.
  Events: "cleaned" (count, state = "waiting") when anything was deleted.
]]
--- @include "emit"
--- @include "push_waiting"

local limit = tonumber(ARGV[1])
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
for _, key in ipairs({KEYS[2], KEYS[3], KEYS[5]}) do
  if deleted < limit then
    local ids = redis.call("ZRANGE", key, 0, limit - deleted - 1)
    for _, job_id in ipairs(ids) do
      if key == KEYS[2] then drop_prioritized(key, job_id) else redis.call("ZREM", key, job_id) end
      drop(job_id)
    end
  end
end
if deleted > 0 then
  emit(KEYS[4], ARGV[4], "cleaned", "", "count", deleted, "state", "waiting")
end
return deleted
