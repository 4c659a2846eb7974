--[[
  complete: active -> completed, storing the handler's result.

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] completed zset   KEYS[4] events stream
  KEYS[5] wait list   KEYS[6] prioritized zset   KEYS[7] delayed zset   KEYS[8] meta hash
  KEYS[9] priority seq   KEYS[10] idle consumers zset   KEYS[11] failed zset

  ARGV[1] job id    ARGV[2] lock token    ARGV[3] now (epoch ms, this host's clock: record timestamps)
  ARGV[4] result (JSON)
  ARGV[5] keep: -1 keep every completed job, 0 remove this one now, N keep the newest N
  ARGV[6] events max length   ARGV[7] job name
  ARGV[8] deduplication id to free if this job owns it ("" none)
  ARGV[9] how many next jobs to take for this worker   ARGV[10] lock duration ms
  ARGV[11] the worker's idle member   ARGV[12] its idle registration's lifetime, ms (0: none)

  Derived from the job key (same slot): the job's logs, the queue's metrics and
  deduplication keys, and the record prefixes used to trim.

  Returns: {code, taken, registered}: code (of pipeline/codes.py) DONE; NOT_HELD the job
  is no longer this worker's (removed, reclaimed after a stall, or already finished);
  CANCEL_PENDING a cancel was requested (nothing changed: the caller fails the job
  with the cancel reason).  taken: {id, message, attempts_made, token, ...} of the next jobs this
  worker now holds (as fetch returns them), so a busy worker needs no separate
  fetch.  Nothing is taken from a paused, rate-limited or aging queue: fetch
  handles those.  registered: 1 when nothing was left to take and the worker,
  with a thread now free, registered for direct handoffs (see includes/register_idle.lua)
  in the same call, as an empty fetch would have.
  Events: "completed" (result, prev = active); "waiting" per promoted delayed
  job and "active" per taken job; "failed" per unreadable record met (see
  includes/fail_unreadable.lua).
]]
--- @include "codes"
--- @include "activate"
--- @include "emit"
--- @include "fail_unreadable"
--- @include "pop_waiting"
--- @include "promote_due"
--- @include "queue_base"
--- @include "read_job"
--- @include "record_metric"
--- @include "register_idle"
--- @include "release_dedup"
--- @include "trim_finished"
--- @include "unreadable_reason"

-- Redis's clock, read once per call: the finish score and the next jobs' locks share it.
local time = nil
local function clock_ms()
  time = time or redis.call("TIME")
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function finish_at()
  time = time or redis.call("TIME")
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000  -- as finish_score()
end

-- -> the jobs taken, and whether the worker went idle (registered for handoffs).
local function take_next(count, now)
  local out = {}
  if count <= 0 then return out, 0 end
  local meta = redis.call("HMGET", KEYS[8], "paused", "limiter_max", "aging_ms")
  if meta[1] == "1" or meta[2] or meta[3] then return out, 0 end
  local prefix = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1])
  local clock = clock_ms()  -- due times and locks count on Redis's clock
  promote_due(KEYS[7], KEYS[5], KEYS[6], KEYS[9], KEYS[4], ARGV[6], prefix, clock)
  local lock_until = clock + tonumber(ARGV[10])
  for _ = 1, count do
    local job_id = pop_waiting(KEYS[5], KEYS[6])
    if not job_id then
      if #out == 0 and tonumber(ARGV[12]) > 0 then
        register_idle(KEYS[10], ARGV[11], tonumber(ARGV[12]))
        return out, 1
      end
      break
    end
    local job_key = prefix .. job_id
    local kind, msg, prio = read_job(job_key)
    if msg then
      local token, attempts = activate(job_key, kind, msg, prio, now)
      redis.call("ZADD", KEYS[2], lock_until, job_id)
      emit(KEYS[4], ARGV[6], "active", job_id, "prev", "waiting")
      out[#out + 1] = job_id
      out[#out + 1] = msg
      out[#out + 1] = attempts
      out[#out + 1] = tostring(token)
    elseif kind ~= "none" then
      fail_unreadable(job_key, job_id, kind, unreadable_reason(kind), KEYS[11], KEYS[4], ARGV[6], now)
    end
  end
  return out, 0
end

local job_key = KEYS[1]
local job_id = ARGV[1]
local now = tonumber(ARGV[3])
local state = redis.call("HMGET", job_key, "state", "token", "cancelled", "processed_on", "attempts_made")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return {NOT_HELD, {}, 0}
end
if state[3] then
  return {CANCEL_PENDING, {}, 0}
end
local base = queue_base(job_key, job_id)
redis.call("ZREM", KEYS[2], job_id)
if ARGV[8] ~= "" then release_dedup(base .. "dedup:" .. ARGV[8], job_id) end
record_metric(base .. "metrics:", "completed", ARGV[7], now, now - (tonumber(state[4]) or now))
emit(KEYS[4], ARGV[6], "completed", job_id, "result", ARGV[4], "prev", "active")
local keep = tonumber(ARGV[5])
if keep == 0 then
  redis.call("DEL", job_key, base .. "logs:" .. job_id)
  local taken, registered = take_next(tonumber(ARGV[9]), now)
  return {DONE, taken, registered}
end
redis.call("HSET", job_key, "state", "completed", "finished_on", now, "result", ARGV[4],
           "attempts_made", (tonumber(state[5]) or 0) + 1)
redis.call("ZADD", KEYS[3], finish_at(), job_id)
if keep > 0 then
  trim_finished(KEYS[3], keep, base .. "j:", base .. "logs:")
end
local taken, registered = take_next(tonumber(ARGV[9]), now)
return {DONE, taken, registered}
