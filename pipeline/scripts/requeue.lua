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
--- @include "put_back"
--- @include "return_inbox"
--- @include "wake"

local q = {
  active = KEYS[1], wait = KEYS[2], prio = KEYS[3], seq = KEYS[5], events = KEYS[6], max_len = ARGV[2],
  prefix = ARGV[1], idle = KEYS[7], handed = KEYS[8],
}
local moved = 0
if ARGV[3] ~= "" then
  moved = return_inbox(q, ARGV[3])
end
for i = 4, #ARGV, 2 do
  moved = moved + put_back(q, ARGV[i], ARGV[i + 1])
end
if moved > 0 then wake(KEYS[4]) end
return moved
