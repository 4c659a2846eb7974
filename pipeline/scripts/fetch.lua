--[[
  fetch: promote due delayed jobs, then move up to `count` waiting jobs to
  active for one worker (prioritized first, then FIFO).  Each taken job gets a
  new lock token; completion must present it, so a worker whose job was taken
  away (stalled, removed) cannot overwrite the outcome.

  KEYS[1] wait list        KEYS[2] prioritized zset   KEYS[3] delayed zset
  KEYS[4] active zset      KEYS[5] meta hash          KEYS[6] priority seq
  KEYS[7] events stream

  ARGV[1] now (epoch ms)   ARGV[2] count   ARGV[3] lock duration ms
  ARGV[4] job key prefix   ARGV[5] events max length

  Returns: { {id, message, attempts_made, token, ...}, next delayed due (ms) or "" }
  Events: "waiting" (prev = delayed) per promoted job, "active" per taken job,
  "drained" when this fetch took the last waiting job.
]]
--- @include "push_waiting"
--- @include "pending_record"
--- @include "emit"

local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local lock_until = now + tonumber(ARGV[3])
local prefix = ARGV[4]
local max_len = ARGV[5]

local due = redis.call("ZRANGEBYSCORE", KEYS[3], "-inf", now, "LIMIT", 0, 1000)
for _, job_id in ipairs(due) do
  redis.call("ZREM", KEYS[3], job_id)
  local job_key = prefix .. job_id
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind ~= "none" then
    if kind == "string" then
      redis.call("SETRANGE", job_key, 0, "w")
    else
      redis.call("HSET", job_key, "state", "waiting")
    end
    push_waiting(KEYS[1], KEYS[2], KEYS[6], job_id, record_priority(job_key), false)
    emit(KEYS[7], max_len, "waiting", job_id, "prev", "delayed")
  end
end

local out = {}
local taken = 0
if redis.call("HGET", KEYS[5], "paused") ~= "1" then
  while taken < count do
    local job_id
    local popped = redis.call("ZPOPMIN", KEYS[2])
    if popped[1] then
      job_id = popped[1]
    else
      job_id = redis.call("RPOP", KEYS[1])
    end
    if not job_id then break end
    local job_key = prefix .. job_id
    local kind = redis.call("TYPE", job_key)["ok"]
    local msg, attempts, token
    if kind == "string" then
      local _, prio, m = parse_pending(redis.call("GET", job_key))
      msg, attempts, token = m, "0", 1
      redis.call("DEL", job_key)
      if prio > 0 then
        redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                   "token", 1, "attempts_made", 0, "priority", prio)
      else
        redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                   "token", 1, "attempts_made", 0)
      end
    elseif kind == "hash" then
      redis.call("HSET", job_key, "state", "active", "processed_on", now)
      token = redis.call("HINCRBY", job_key, "token", 1)
      local fields = redis.call("HMGET", job_key, "msg", "attempts_made")
      msg, attempts = fields[1], fields[2] or "0"
    end
    if msg then
      redis.call("ZADD", KEYS[4], lock_until, job_id)
      emit(KEYS[7], max_len, "active", job_id, "prev", "waiting")
      out[#out + 1] = job_id
      out[#out + 1] = msg
      out[#out + 1] = attempts
      out[#out + 1] = tostring(token)
      taken = taken + 1
    end
  end
  if taken > 0 and redis.call("EXISTS", KEYS[1], KEYS[2]) == 0 then
    emit(KEYS[7], max_len, "drained", "")
  end
end

local next_due = redis.call("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")
return {out, next_due[2] or ""}
