--[[
  requeue: active -> waiting for jobs a worker reserved but never started
  (worker shutdown).  They go to the front of their level and keep their
  attempt count: nothing ran.

  KEYS[1] active zset   KEYS[2] wait list   KEYS[3] prioritized zset
  KEYS[4] marker list   KEYS[5] priority seq   KEYS[6] events stream

  ARGV[1] job key prefix   ARGV[2] events max length
  ARGV[3..] pairs: job id, lock token

  Returns: number of jobs put back.
  Events: "waiting" (prev = active) per job put back.
]]
--- @include "push_waiting"
--- @include "wake"
--- @include "emit"

local prefix = ARGV[1]
local moved = 0
for i = 3, #ARGV, 2 do
  local job_id = ARGV[i]
  local job_key = prefix .. job_id
  local state = redis.call("HMGET", job_key, "state", "token", "priority")
  if state[1] == "active" and state[2] == ARGV[i + 1] then
    redis.call("ZREM", KEYS[1], job_id)
    redis.call("HSET", job_key, "state", "waiting")
    redis.call("HDEL", job_key, "processed_on")
    push_waiting(KEYS[2], KEYS[3], KEYS[5], job_id, tonumber(state[3]) or 0, true)
    emit(KEYS[6], ARGV[2], "waiting", job_id, "prev", "active")
    moved = moved + 1
  end
end
if moved > 0 then wake(KEYS[4]) end
return moved
