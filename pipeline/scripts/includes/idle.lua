--[[
  Direct handoff to idle workers (the pickup fast path).

  A consumer whose fetch found nothing registers in the queue's idle set and
  blocks on its own inbox list and on the doorbell.  When add creates a job
  that would be the only waiting one, it gives the job to the idle consumer
  registered longest ago instead: the job becomes active with a lock at once and
  the fetch record goes to that consumer's inbox, so the worker starts it
  without a second round trip.  The consumer leaves the idle set with the
  handoff and moves to the handed set until its next fetch, which registers it
  again if it finds nothing.

  Members of both sets are "<lock ms>|<consumer id>", scored by when the
  registration lapses on Redis's clock; a consumer re-registers at least once
  per blocking wait, so a lapsed member is a worker that went away.  Its inbox
  is "<idle key>:<member>" (same slot).  The stall sweep puts the jobs of lapsed
  inboxes back without counting a stall; registrations lapse well before a
  handed job's lock does.

  Functions that may put jobs back take the queue's key table q (see put_back).

  register_idle(idle_key, member, ttl_ms): (re)registers a consumer.
  claim_idle(q) -> the member registered longest ago and still live, moved to the handed set, and
    Redis's clock (ms), or false; lapsed members met on the way are reaped (see reap_idle),
    and false once that put a job back (it now waits, and the caller's new job behind it).
  (Needs includes/clock.lua.)
  member_lock_ms(member) -> the lock duration that consumer asked for.
  inbox_entry(job_id, token, attempts, msg) -> "<token> <attempts> <id length> <id><message>".
  parse_inbox_entry(entry) -> job id, token, attempts, message (nil for a malformed entry).
  take_inbox(idle_key, member) -> the entries waiting in a member's inbox, removed.
  return_inbox(q, member) -> jobs put back (put_back) from the member's inbox; removes it
    from both sets and deletes the inbox.
  reap_idle(q, clock) -> jobs put back from every lapsed member (clock: Redis's, if the
    caller already read it).
]]
local function register_idle(idle_key, member, ttl_ms)
  redis.call("ZADD", idle_key, redis_ms() + ttl_ms, member)
end

local function member_lock_ms(member)
  return tonumber(string.match(member, "^(%d+)|"))
end

local function inbox_entry(job_id, token, attempts, msg)
  return tostring(token) .. " " .. tostring(attempts) .. " " .. #job_id .. " " .. job_id .. msg
end

local function parse_inbox_entry(entry)
  local token, attempts, id_len, rest = string.match(entry, "^(%d+) (%d+) (%d+) (.*)$")
  if not rest then return nil end
  local n = tonumber(id_len)
  return string.sub(rest, 1, n), token, attempts, string.sub(rest, n + 1)
end

local function take_inbox(idle_key, member)
  local inbox = idle_key .. ":" .. member
  local entries = redis.call("LRANGE", inbox, 0, -1)
  if entries[1] then redis.call("DEL", inbox) end
  return entries
end

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

local function claim_idle(q)
  for _ = 1, 10 do
    local popped = redis.call("ZPOPMIN", q.idle)
    if not popped[1] then return false end
    local clock = redis_ms()
    if tonumber(popped[2]) >= clock then
      redis.call("ZADD", q.handed, popped[2], popped[1])
      return popped[1], clock
    end
    -- A lapsed member's jobs go back to waiting; the new job must then wait behind them.
    if return_inbox(q, popped[1]) > 0 then return false end
  end
  return false
end

local function reap_idle(q, clock)
  local now = "(" .. (clock or redis_ms())
  local moved = 0
  for _, set_key in ipairs({q.idle, q.handed}) do
    for _, member in ipairs(redis.call("ZRANGEBYSCORE", set_key, "-inf", now, "LIMIT", 0, 100)) do
      moved = moved + return_inbox(q, member)
    end
  end
  return moved
end
