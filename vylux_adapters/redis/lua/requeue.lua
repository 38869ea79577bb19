-- Move an archived task back to the end of pending with its retry count reset.
-- KEYS[1] task hash, [2] archived zset, [3] pending list
-- ARGV[1] task id, [2] now (ms)
-- Returns 1 when requeued, 0 when the task is not archived in this queue.
if redis.call('HGET', KEYS[1], 'state') ~= 'archived' then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'archived_at')
redis.call('HSET', KEYS[1], 'state', 'pending', 'retried', 0, 'pending_since', ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
return 1
