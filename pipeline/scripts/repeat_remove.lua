--[[
  repeat_remove: delete one repeatable job's definition (Bull's
  removeRepeatableByKey).  A scheduler's claim on it fails from then on.

  KEYS[1] the queue's set of definition ids   KEYS[2] the definition hash

  ARGV[1] definition id

  Returns: {removed, next}: removed DONE (of pipeline/codes.py) and the pending occurrence (epoch ms, or ""
  when none) so the caller can cancel that job; {UNCHANGED, ""} when there was no such
  definition.
]]
--- @include "codes"

local next_run = redis.call("HGET", KEYS[2], "next")
redis.call("SREM", KEYS[1], ARGV[1])
if redis.call("DEL", KEYS[2]) == 0 then
  return {UNCHANGED, ""}
end
return {DONE, next_run or ""}
