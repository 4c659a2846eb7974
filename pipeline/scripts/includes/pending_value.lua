--[[
  pending_value(letter, prio_tag, msg) -> the string a pending job is stored as.
  A pending job that no worker has taken yet is stored as one compact string:
  a state letter ("w" waiting, "d" delayed), its priority digits when it has
  one, then the encoded Dramatiq message.  A JSON message starts with "{";
  a message of another encoder (any bytes, e.g. pickle) is preceded by ":",
  so a leading digit of it is never read as priority.  Once a worker takes
  it, the record becomes a hash (see activate).  parse_pending reads it back.
]]
local function pending_value(letter, prio_tag, msg)
  if string.byte(msg, 1) == 123 then return letter .. prio_tag .. msg end
  return letter .. prio_tag .. ":" .. msg
end
