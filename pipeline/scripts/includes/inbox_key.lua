--[[
  inbox_key(idle_key, member) -> the inbox list of an idle consumer (see register_idle):
  in the idle set's slot, spelled by pipeline/keys.py.
]]
--- @include "keys"
local function inbox_key(idle_key, member)
  return idle_key .. KEY_INBOX .. member
end
