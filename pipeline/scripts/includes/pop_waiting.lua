--[[
  pop_waiting(wait_key, prio_key) -> the next waiting job id, prioritized first, or false.
]]
--- @include "keys"
local function pop_waiting(wait_key, prio_key)
  local popped = redis.call("ZPOPMIN", prio_key)
  if popped[1] then
    redis.call("ZREM", prio_key .. KEY_PRIORITY_AGE, popped[1])
    return popped[1]
  end
  return redis.call("RPOP", wait_key)
end
