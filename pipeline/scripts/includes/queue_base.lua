--[[
  queue_base(job_key, job_id) -> the "<ns>:{<queue>}:" prefix of a job's queue.
  Hot-path scripts take only the job key and derive the queue's other keys
  from it (logs, metrics, deduplication: all in the same slot), which keeps
  their argument lists, and so each call, short.
]]
--- @include "keys"
local function queue_base(job_key, job_id)
  return string.sub(job_key, 1, #job_key - #job_id - #KEY_JOB)
end
