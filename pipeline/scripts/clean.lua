--[[
  clean: delete up to `limit` finished jobs of one state that finished before
  a cutoff (Bull's queue.clean(grace, status)).

  KEYS[1] completed or failed zset   KEYS[2] events stream

  ARGV[1] cutoff (epoch ms)   ARGV[2] limit   ARGV[3] job key prefix   ARGV[4] logs prefix
  ARGV[5] events max length   ARGV[6] the state cleaned ("completed" or "failed")

  Returns: the ids deleted.
  Events: "cleaned" (count, state) when anything was deleted.
]]
--- @include "emit"

local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, job_id in ipairs(ids) do
  redis.call("DEL", ARGV[3] .. job_id, ARGV[4] .. job_id)
  redis.call("ZREM", KEYS[1], job_id)
end
if #ids > 0 then
  emit(KEYS[2], ARGV[5], "cleaned", "", "count", #ids, "state", ARGV[6])
end
return ids
