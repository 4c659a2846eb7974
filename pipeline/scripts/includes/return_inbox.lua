--[[
  return_inbox(q, member) -> jobs put back (put_back) from an idle consumer's inbox;
  removes the consumer from the idle and handed sets and deletes its inbox.
  q: the queue's key table (see put_back), with idle and handed.
]]
--- @include "take_inbox"
--- @include "parse_inbox_entry"
--- @include "put_back"
local function return_inbox(q, member)
  redis.call("ZREM", q.idle, member)
  redis.call("ZREM", q.handed, member)
  local moved = 0
  for _, entry in ipairs(take_inbox(q.idle, member)) do
    local job_id, token = parse_inbox_entry(entry)
    if job_id then moved = moved + put_back(q, job_id, token) end
  end
  return moved
end
