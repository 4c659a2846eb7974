--[[
  take_handed(idle_key, handed_key, member, out) -> how many jobs were waiting in an idle
  consumer's inbox (see register_idle): they are active and locked for it already, and
  are appended to out as {id, message, attempts_made, token, ...}.  The consumer leaves
  the handed set: it is back at a fetch.
]]
--- @include "take_inbox"
--- @include "parse_inbox_entry"
local function take_handed(idle_key, handed_key, member, out)
  redis.call("ZREM", handed_key, member)
  local taken = 0
  for _, entry in ipairs(take_inbox(idle_key, member)) do
    local job_id, token, attempts, msg = parse_inbox_entry(entry)
    if job_id then
      out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = job_id, msg, attempts, token
      taken = taken + 1
    end
  end
  return taken
end
