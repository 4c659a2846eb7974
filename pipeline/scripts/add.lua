--[[
  add: create jobs atomically, each waiting, prioritized or delayed.
  A job id that already exists is left untouched (Bull's jobId dedupe).

  KEYS[1] wait list        KEYS[2] prioritized zset   KEYS[3] delayed zset
  KEYS[4] marker list      KEYS[5] priority seq       KEYS[6] events stream
  KEYS[7..] one job key per job, in the order of the ARGV groups

  ARGV[1] now (epoch ms)   ARGV[2] events max length
  ARGV[3..] groups of 6: job id, encoded message, delay ms, priority, lifo ("1"/"0"), job name

  Returns: one integer per job: 1 created, 0 already existed (nothing changed).
  Events: "waiting" (name) or "delayed" (name, delay = due time) per created job.
]]
--- @include "push_waiting"
--- @include "wake"
--- @include "emit"

local now = tonumber(ARGV[1])
local max_len = ARGV[2]
local created = {}
local woke = false
local n = (#ARGV - 2) / 6
for i = 1, n do
  local base = 2 + (i - 1) * 6
  local job_id = ARGV[base + 1]
  local delay = tonumber(ARGV[base + 3])
  local priority = tonumber(ARGV[base + 4])
  local prio_tag = ""
  if priority > 0 then prio_tag = tostring(priority) end
  if redis.call("SET", KEYS[6 + i], (delay > 0 and "d" or "w") .. prio_tag .. ARGV[base + 2], "NX") then
    if delay > 0 then
      redis.call("ZADD", KEYS[3], now + delay, job_id)
      emit(KEYS[6], max_len, "delayed", job_id, "name", ARGV[base + 6], "delay", now + delay)
    else
      push_waiting(KEYS[1], KEYS[2], KEYS[5], job_id, priority, ARGV[base + 5] == "1")
      emit(KEYS[6], max_len, "waiting", job_id, "name", ARGV[base + 6])
    end
    woke = true
    created[i] = 1
  else
    created[i] = 0
  end
end
if woke then wake(KEYS[4]) end
return created
