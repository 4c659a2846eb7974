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
-- Records and logs are deleted a few hundred keys per DEL, not one command per job.
local doomed = {}
for _, job_id in ipairs(ids) do
  doomed[#doomed + 1] = ARGV[3] .. job_id
  doomed[#doomed + 1] = ARGV[4] .. job_id
  if #doomed >= 500 then
    redis.call("DEL", unpack(doomed))
    doomed = {}
  end
end
if #doomed > 0 then redis.call("DEL", unpack(doomed)) end
if #ids > 0 then
  -- They are the set's lowest scores, so its first #ids ranks: one command, not one per job.
  redis.call("ZREMRANGEBYRANK", KEYS[1], 0, #ids - 1)
  emit(KEYS[2], ARGV[5], "cleaned", "", "count", #ids, "state", ARGV[6])
end
return ids
