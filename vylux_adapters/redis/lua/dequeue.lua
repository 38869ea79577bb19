-- Promote due scheduled/retry tasks to pending, then lease up to ARGV[6] pending tasks.
-- KEYS[1] pending list, [2] active zset, [3] scheduled zset, [4] retry zset
-- ARGV[1] task key prefix, [2] now (ms), [3] lease deadline (ms), [4] worker id,
--      [5] lease token prefix (each lease gets "<prefix>-<n>"), [6] how many at most
-- Returns a flat list of 7 fields per leased task:
-- {id, retried, type, payload, queue, max_retry, timeout, ...}; empty when none.
local prefix, now = ARGV[1], ARGV[2]
local wanted = tonumber(ARGV[6])

-- Bounded per call so that a large backlog is moved over several dequeues instead
-- of blocking Redis in one script; oldest due first across both sets.
local due = {}
for _, set in ipairs({KEYS[3], KEYS[4]}) do
  local found = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 100)
  for i = 1, #found, 2 do
    due[#due + 1] = {found[i], tonumber(found[i + 1]), set}
  end
end
table.sort(due, function(a, b) return a[2] < b[2] end)
for _, item in ipairs(due) do
  redis.call('ZREM', item[3], item[1])
  redis.call('HSET', prefix .. item[1], 'state', 'pending', 'pending_since', now)
  redis.call('RPUSH', KEYS[1], item[1])
end

local leased = {}
local n = 0
while n < wanted do
  local id = redis.call('LPOP', KEYS[1])
  if not id then
    break
  end
  local key = prefix .. id
  -- An id without its hash can only be debris (e.g. a key evicted or deleted by
  -- hand); leasing it would hand out a task nobody can describe.
  if redis.call('EXISTS', key) == 1 then
    n = n + 1
    redis.call('HSET', key, 'state', 'active', 'worker_id', ARGV[4],
      'lease_token', ARGV[5] .. '-' .. n, 'deadline', ARGV[3])
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    local f = redis.call('HMGET', key, 'retried', 'type', 'payload', 'queue', 'max_retry',
      'timeout')
    for _, value in ipairs({id, f[1], f[2], f[3], f[4], f[5], f[6]}) do
      leased[#leased + 1] = value
    end
  end
end
return leased
