--[[
  group_window(msg, group_field, group_prefix) -> the rate-limit window of a job's group:
  the value of the `group_field` keyword argument of its (JSON) message, "" when it has
  none, appended to the prefix of group windows.
]]
local function group_window(msg, group_field, group_prefix)
  local ok, decoded = pcall(cjson.decode, msg)
  local group = ""
  if ok and type(decoded["kwargs"]) == "table" and decoded["kwargs"][group_field] ~= nil then
    group = tostring(decoded["kwargs"][group_field])
  end
  return group_prefix .. group
end
