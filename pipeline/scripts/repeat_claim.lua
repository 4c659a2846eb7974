--[[
  repeat_claim: a scheduler claims one fire of a repeatable job.  The pending
  occurrence `expected` has come due; the claim moves the definition on to
  `following` and counts it, so of all schedulers racing for the same fire
  exactly one wins, and `limit` holds exactly.  The winner then adds the
  `following` occurrence as a job (with a deterministic id).

  KEYS[1] the definition hash

  ARGV[1] expected pending occurrence (epoch ms)
  ARGV[2] the occurrence after it (epoch ms), or "" when the trigger has none left

  Returns (codes of pipeline/codes.py): DONE claimed (pending is now ARGV[2], count grew by one);
           UNCHANGED lost (the definition is gone, or another scheduler moved it on);
           REPEAT_FINISHED (limit reached or no fire left; nothing is pending now).
]]
--- @include "codes"

local fields = redis.call("HMGET", KEYS[1], "next", "count", "limit")
if not fields[1] or fields[1] ~= ARGV[1] then
  return UNCHANGED
end
local count = tonumber(fields[2]) or 0
local limit = fields[3] and tonumber(fields[3])
if ARGV[2] == "" or (limit ~= nil and count >= limit) then
  redis.call("HSET", KEYS[1], "next", "")
  return REPEAT_FINISHED
end
redis.call("HSET", KEYS[1], "next", ARGV[2], "count", count + 1)
return DONE
