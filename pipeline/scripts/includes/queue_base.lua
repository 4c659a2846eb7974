--[[
  queue_base(job_key, job_id) -> the "<ns>:{<queue>}:" prefix of a job's queue.
  Hot-path scripts take only the job key and derive the queue's other keys
  from it (logs, metrics, deduplication: all in the same slot), which keeps
  their argument lists, and so each call, short.
]]
local function queue_base(job_key, job_id)
  return string.sub(job_key, 1, #job_key - #job_id - 2)
end

--[[
  finish_score() -> the score of a finished job: Redis's clock in ms with the
  microseconds as the fraction, so jobs finishing in the same millisecond keep
  their order and "keep the newest N" keeps the right ones.
]]
local function finish_score()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
