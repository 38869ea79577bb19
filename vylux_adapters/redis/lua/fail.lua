-- Record a failed attempt: retry at the given time, archive, or drop if cancelled.
-- KEYS[1] task hash, [2] active zset, [3] retry zset, [4] archived zset
-- ARGV[1] task id, [2] lease token, [3] error, [4] now (ms), [5] retry at (ms),
--      [6] permanent ('1' or '0')
-- Returns 'lease_lost' | 'cancelled' | 'retry_scheduled' | 'archived'.
local f = redis.call('HMGET', KEYS[1], 'state', 'lease_token', 'cancel_requested', 'retried',
  'max_retry')
if f[1] ~= 'active' or f[2] ~= ARGV[2] then
  return 'lease_lost'
end
redis.call('ZREM', KEYS[2], ARGV[1])
if f[3] == '1' then
  redis.call('DEL', KEYS[1])
  return 'cancelled'
end

local retried = tonumber(f[4])
redis.call('HDEL', KEYS[1], 'worker_id', 'lease_token', 'deadline')
redis.call('HSET', KEYS[1], 'retried', retried + 1, 'last_error', ARGV[3])
if ARGV[6] == '1' or retried >= tonumber(f[5]) then
  redis.call('HSET', KEYS[1], 'state', 'archived', 'archived_at', ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
  return 'archived'
end
redis.call('HSET', KEYS[1], 'state', 'retry')
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
return 'retry_scheduled'
