--[[
  requeue: active -> waiting for jobs a worker reserved but never started
  (worker shutdown, local pause).  They go to the front of their level and keep
  their attempt count: nothing ran.  With a consumer's idle member, the
  consumer also leaves the idle set and the jobs handed to its inbox go back.

  KEYS[1] active zset   KEYS[2] wait list   KEYS[3] prioritized zset
  KEYS[4] marker list   KEYS[5] priority seq   KEYS[6] events stream
  KEYS[7] idle consumers zset   KEYS[8] handed consumers zset

  ARGV[1] job key prefix   ARGV[2] events max length
  ARGV[3] the consumer's idle member ("" none)
  ARGV[4..] pairs: job id, lock token

  Returns: number of jobs put back.
  Events: "waiting" (prev = active) per job put back.
]]
--- @include "push_waiting"
--- @include "wake"
--- @include "emit"
--- @include "put_back"
--- @include "clock"
--- @include "idle"

local prefix = ARGV[1]
local moved = 0
if ARGV[3] ~= "" then
  moved = return_inbox(KEYS[7], KEYS[8], ARGV[3], KEYS[1], KEYS[2], KEYS[3], KEYS[5], KEYS[6], ARGV[2], prefix)
end
for i = 4, #ARGV, 2 do
  local job_id = ARGV[i]
  moved = moved + put_back(prefix .. job_id, job_id, ARGV[i + 1], KEYS[1], KEYS[2], KEYS[3], KEYS[5],
                           KEYS[6], ARGV[2])
end
if moved > 0 then wake(KEYS[4]) end
return moved
