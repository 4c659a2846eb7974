--[[
  take_inbox(idle_key, member) -> the entries waiting in an idle consumer's inbox,
  removed (see register_idle).
]]
--- @include "inbox_key"
local function take_inbox(idle_key, member)
  local inbox = inbox_key(idle_key, member)
  local entries = redis.call("LRANGE", inbox, 0, -1)
  if entries[1] then redis.call("DEL", inbox) end
  return entries
end
