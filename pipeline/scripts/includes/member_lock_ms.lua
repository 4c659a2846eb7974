--[[
  member_lock_ms(member) -> the lock duration an idle consumer asked for (see register_idle).
]]
local function member_lock_ms(member)
  return tonumber(string.match(member, "^(%d+)|"))
end
