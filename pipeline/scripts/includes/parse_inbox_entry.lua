--[[
  parse_inbox_entry(entry) -> job id, token, attempts, message of an inbox entry
  (see inbox_entry); nil for a malformed entry.
]]
local function parse_inbox_entry(entry)
  local token, attempts, id_len, rest = string.match(entry, "^(%d+) (%d+) (%d+) (.*)$")
  if not rest then return nil end
  local n = tonumber(id_len)
  return string.sub(rest, 1, n), token, attempts, string.sub(rest, n + 1)
end
