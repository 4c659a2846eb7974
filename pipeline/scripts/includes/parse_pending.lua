--[[
  parse_pending(value) -> state letter, priority (number), message of a pending
  job's string (see pending_value); the message is nil when the string is not in
  that format.
]]
local function parse_pending(value)
  local state, prio, msg = string.match(value, "^(%a)(%d*)(.*)$")
  if msg and string.byte(msg, 1) == 58 then msg = string.sub(msg, 2) end
  return state, tonumber(prio) or 0, msg
end
