--[[
  add: create jobs atomically, each waiting, prioritized or delayed.
  A job id that already exists is left untouched (Bull's jobId dedupe); a
  deduplication id that is taken either ignores the add (throttle) or, in
  debounce mode, replaces the pending job's data and pushes its due time back.
  A job that would be the only one waiting goes straight to an idle worker
  when one is registered (see includes/register_idle.lua): active, locked, and pushed
  to that worker's inbox.

  KEYS[1] wait list        KEYS[2] prioritized zset   KEYS[3] delayed zset
  KEYS[4] marker list      KEYS[5] priority seq       KEYS[6] events stream
  KEYS[7] idle consumers zset   KEYS[8] meta hash     KEYS[9] active zset
  KEYS[10] handed consumers zset
  KEYS[11..10+n] the job key of each job, in the order of the ARGV groups
  KEYS[11+n..] the deduplication key of each job that has one, in the same order

  ARGV[1] now (epoch ms, this host's clock: record timestamps only; due times
          and locks count on Redis's clock)   ARGV[2] events max length
  ARGV[3..] groups of 7: job id, encoded message, delay ms, priority, lifo ("1"/"0"),
            job name, deduplication: "" or "<mode>:<ttl ms>" (mode throttle or
            debounce; ttl 0: until the job finishes)

  Every group is checked before anything is written: a malformed one fails the
  whole call with an error and no job is created (callers validate first; this
  keeps a bad argument from ever leaving half a batch behind).

  Returns: per job two entries, a code (of pipeline/codes.py) and a job id: DONE
  created (its id); UNCHANGED the job id existed; DEDUPLICATED (the owner's id,
  nothing changed); DEBOUNCED (the owner's id; its data replaced, its delay restarted).
  Events: "waiting" (name) or "delayed" (name, delay = due time) per created
  job, then "active" (prev = waiting) for one handed to an idle worker (no
  "drained": it never waited behind another); "deduplicated" or "debounced"
  (by = the ignored job id) otherwise.
]]
--- @include "codes"
--- @include "activate"
--- @include "claim_idle"
--- @include "emit"
--- @include "inbox_entry"
--- @include "inbox_key"
--- @include "member_lock_ms"
--- @include "pending_value"
--- @include "push_waiting"
--- @include "redis_ms"
--- @include "wake"

local now = tonumber(ARGV[1])
local due_clock = nil
local function due(delay)  -- a due time on Redis's clock, read at most once per call
  due_clock = due_clock or redis_ms()
  return due_clock + delay
end
local max_len = ARGV[2]
local out = {}
local woke = false
local n = (#ARGV - 2) / 7
local next_dedup_key = 11 + n

local function debounce(job_key, job_id, owner, msg, delay, prio_tag)
  -- Only a job that has not started can take new data.
  local owner_key = string.sub(job_key, 1, #job_key - #job_id) .. owner
  if redis.call("ZSCORE", KEYS[3], owner) == false then return false end
  if redis.call("TYPE", owner_key)["ok"] == "string" then
    redis.call("SET", owner_key, pending_value("d", prio_tag, msg))
  else
    redis.call("HSET", owner_key, "msg", msg)
  end
  redis.call("ZADD", KEYS[3], due(delay), owner)
  return true
end

-- Whether a new job may skip the waiting list: only while nothing waits (so
-- order and priority are exactly as if it had been fetched) and the queue is
-- not paused, rate limited or aging (fetch decides those).  Off for the rest
-- of the call once a job waits or no consumer is idle.
local handoff = nil
local function idle_consumer(job_key, job_id)
  if handoff == false then return false end
  if handoff == nil and redis.call("EXISTS", KEYS[1], KEYS[2]) > 0 then
    handoff = false
    return false
  end
  local member, clock = claim_idle({
    idle = KEYS[7], handed = KEYS[10], active = KEYS[9], wait = KEYS[1], prio = KEYS[2], seq = KEYS[5],
    events = KEYS[6], max_len = max_len, prefix = string.sub(job_key, 1, #job_key - #job_id),
  })
  if member and handoff == nil then
    local meta = redis.call("HMGET", KEYS[8], "paused", "limiter_max", "aging_ms")
    -- The consumer leaves the idle set; it wakes by its timeout or the doorbell.
    if meta[1] == "1" or meta[2] or meta[3] then
      redis.call("ZREM", KEYS[10], member)
      member = false
    end
  end
  handoff = member and true or false
  return member, clock
end

local function whole(text)
  return string.match(text, "^%d+$") ~= nil and #text <= 15
end
if n ~= math.floor(n) then return redis.error_reply("ERR add: ARGV is not groups of 7") end
for i = 1, n do
  local base = 2 + (i - 1) * 7
  local ttl = string.match(ARGV[base + 7], "^%a+:(%d+)$")
  if ARGV[base + 1] == "" or not whole(ARGV[base + 3]) or not whole(ARGV[base + 4])
     or (ARGV[base + 7] ~= "" and not (ttl and whole(ttl))) then
    return redis.error_reply("ERR add: malformed job " .. i .. " (nothing was written)")
  end
end

for i = 1, n do
  local base = 2 + (i - 1) * 7
  local job_id = ARGV[base + 1]
  local msg = ARGV[base + 2]
  local delay = tonumber(ARGV[base + 3])
  local priority = tonumber(ARGV[base + 4])
  local job_key = KEYS[10 + i]
  local mode, ttl, dedup_key = "", 0, nil
  if ARGV[base + 7] ~= "" then
    local m, t = string.match(ARGV[base + 7], "^(%a+):(%d+)$")
    mode, ttl = m, tonumber(t)
    dedup_key = KEYS[next_dedup_key]
    next_dedup_key = next_dedup_key + 1
  end
  local prio_tag = ""
  if priority > 0 then prio_tag = tostring(priority) end
  local owner = nil
  if dedup_key then owner = redis.call("GET", dedup_key) end
  if owner then
    if mode == "debounce" and debounce(job_key, job_id, owner, msg, delay, prio_tag) then
      if ttl > 0 then redis.call("PEXPIRE", dedup_key, ttl) end
      emit(KEYS[6], max_len, "debounced", owner, "by", job_id, "delay", due(delay))
      out[#out + 1], out[#out + 2] = DEBOUNCED, owner
    else
      emit(KEYS[6], max_len, "deduplicated", owner, "by", job_id)
      out[#out + 1], out[#out + 2] = DEDUPLICATED, owner
    end
  elseif redis.call("SET", job_key, pending_value(delay > 0 and "d" or "w", prio_tag, msg), "NX") then
    if dedup_key then
      if ttl > 0 then
        redis.call("SET", dedup_key, job_id, "PX", ttl)
      else
        redis.call("SET", dedup_key, job_id)
      end
    end
    if delay > 0 then
      redis.call("ZADD", KEYS[3], due(delay), job_id)
      emit(KEYS[6], max_len, "delayed", job_id, "name", ARGV[base + 6], "delay", due(delay))
      woke = true
    else
      emit(KEYS[6], max_len, "waiting", job_id, "name", ARGV[base + 6])
      local member, clock = idle_consumer(job_key, job_id)
      if member then
        local token = activate(job_key, "string", msg, priority, now)
        redis.call("ZADD", KEYS[9], clock + member_lock_ms(member), job_id)
        emit(KEYS[6], max_len, "active", job_id, "prev", "waiting")
        redis.call("RPUSH", inbox_key(KEYS[7], member), inbox_entry(job_id, token, 0, msg))
      else
        push_waiting(KEYS[1], KEYS[2], KEYS[5], job_id, priority, ARGV[base + 5] == "1")
        handoff = false
        woke = true
      end
    end
    out[#out + 1], out[#out + 2] = DONE, job_id
  else
    out[#out + 1], out[#out + 2] = UNCHANGED, job_id
  end
end
if woke then wake(KEYS[4]) end
return out
