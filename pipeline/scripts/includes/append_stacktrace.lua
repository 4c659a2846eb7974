--[[
  append_stacktrace(job_key, entry, limit)
  Keeps the stack traces of the newest `limit` failed attempts as a JSON list
  (oldest first) in the record's "stacktrace" field; limit 0 keeps none.
]]
local function append_stacktrace(job_key, entry, limit)
  if limit <= 0 then
    redis.call("HDEL", job_key, "stacktrace")
    return
  end
  local traces = {}
  local raw = redis.call("HGET", job_key, "stacktrace")
  if raw then traces = cjson.decode(raw) end
  traces[#traces + 1] = entry
  while #traces > limit do table.remove(traces, 1) end
  redis.call("HSET", job_key, "stacktrace", cjson.encode(traces))
end
