--[[
  Taking waiting jobs for a worker, shared by fetch (the consumer asks) and
  complete (a worker that just finished a job takes the next in the same call).

  promote_due(delayed_key, wait_key, prio_key, seq_key, events_key, max_len, prefix, now):
    moves delayed jobs that are due to waiting (at most 1000).
  pop_waiting(wait_key, prio_key) -> the next waiting job id, prioritized first, or false.
  read_job(job_key) -> kind ("string" pending / "hash" / "none"), message, pending priority.
  activate(job_key, kind, msg, prio, now) -> lock token, attempts made: the record becomes
    an active hash (a pending string is converted; kind "none" creates it).
]]
local function promote_due(delayed_key, wait_key, prio_key, seq_key, events_key, max_len, prefix, now)
  local due = redis.call("ZRANGEBYSCORE", delayed_key, "-inf", now, "LIMIT", 0, 1000)
  for _, job_id in ipairs(due) do
    redis.call("ZREM", delayed_key, job_id)
    local job_key = prefix .. job_id
    local kind = redis.call("TYPE", job_key)["ok"]
    if kind ~= "none" then
      if kind == "string" then
        redis.call("SETRANGE", job_key, 0, "w")
      else
        redis.call("HSET", job_key, "state", "waiting")
      end
      push_waiting(wait_key, prio_key, seq_key, job_id, record_priority(job_key), false)
      emit(events_key, max_len, "waiting", job_id, "prev", "delayed")
    end
  end
end

local function pop_waiting(wait_key, prio_key)
  local popped = redis.call("ZPOPMIN", prio_key)
  if popped[1] then
    redis.call("ZREM", prio_key .. ":age", popped[1])
    return popped[1]
  end
  return redis.call("RPOP", wait_key)
end

local function read_job(job_key)
  -- GET first: a pending string (the usual case) then costs one command, not TYPE and GET.
  local value = redis.pcall("GET", job_key)
  if type(value) == "string" then
    local _, prio, msg = parse_pending(value)
    return "string", msg, prio
  elseif value == false then
    return "none", nil, 0
  end
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind == "hash" then
    return kind, redis.call("HGET", job_key, "msg"), 0
  end
  return kind, nil, 0
end

local function activate(job_key, kind, msg, prio, now)
  if kind ~= "hash" then
    if kind == "string" then redis.call("DEL", job_key) end
    if prio > 0 then
      redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                 "token", 1, "attempts_made", 0, "priority", prio)
    else
      redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                 "token", 1, "attempts_made", 0)
    end
    return 1, "0"
  end
  redis.call("HSET", job_key, "state", "active", "processed_on", now)
  local token = redis.call("HINCRBY", job_key, "token", 1)
  return token, redis.call("HGET", job_key, "attempts_made") or "0"
end
