-- Take back one task whose lease expired: retry, archive, or drop if cancelled.
-- The caller found the task through the active zset and read its token and retry
-- count outside this script, so everything is checked again here.
-- KEYS[1] task hash, [2] active zset, [3] retry zset, [4] archived zset
-- ARGV[1] task id, [2] lease token, [3] now (ms), [4] retry at (ms), [5] error
-- Returns nil when there is nothing to do, else
-- {outcome, retried, type, payload, queue, max_retry, timeout}.
local f = redis.call('HMGET', KEYS[1], 'state', 'lease_token', 'deadline', 'cancel_requested',
  'retried', 'max_retry', 'type', 'payload', 'queue', 'timeout')
if f[1] ~= 'active' or f[2] ~= ARGV[2] or tonumber(f[3]) >= tonumber(ARGV[3]) then
  return nil
end
local retried, max_retry = tonumber(f[5]), tonumber(f[6])
local outcome
redis.call('ZREM', KEYS[2], ARGV[1])
if f[4] == '1' then
  redis.call('DEL', KEYS[1])
  outcome = 'cancelled'
else
  redis.call('HDEL', KEYS[1], 'worker_id', 'lease_token', 'deadline')
  redis.call('HSET', KEYS[1], 'retried', retried + 1, 'last_error', ARGV[5])
  if retried >= max_retry then
    redis.call('HSET', KEYS[1], 'state', 'archived', 'archived_at', ARGV[3])
    redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
    outcome = 'archived'
  else
    redis.call('HSET', KEYS[1], 'state', 'retry')
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
    outcome = 'retry_scheduled'
  end
  retried = retried + 1
end
return {outcome, retried, f[7], f[8], f[9], f[6], f[10]}
