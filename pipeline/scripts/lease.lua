--[[
  lease: take, renew or give up a lease that one process at a time holds (the
  alert evaluator's leadership: every scheduler process asks each interval, the
  holder evaluates).

  KEYS[1] lease key

  ARGV[1] holder id   ARGV[2] lease length ms (0 = give it up if held)

  Returns (codes of pipeline/codes.py): DONE the caller holds the lease (taken or
  renewed); UNCHANGED it does not
  (another holder has it, or it was given up).
  Events: none.
]]
--- @include "codes"
local holder = redis.call("GET", KEYS[1])
if ARGV[2] == "0" then
  if holder == ARGV[1] then redis.call("DEL", KEYS[1]) end
  return UNCHANGED
end
if holder == false or holder == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return DONE
end
return UNCHANGED
