-- Count one queue's tasks by state, with when the head of pending became pending.
-- KEYS[1] pending list, [2] active zset, [3] scheduled zset, [4] retry zset,
--      [5] archived zset
-- ARGV[1] task key prefix
-- Returns {pending, active, scheduled, retry, archived, head pending_since (ms) or ''}.
local since = ''
local head = redis.call('LINDEX', KEYS[1], 0)
if head then
  since = redis.call('HGET', ARGV[1] .. head, 'pending_since') or ''
end
return {
  redis.call('LLEN', KEYS[1]),
  redis.call('ZCARD', KEYS[2]),
  redis.call('ZCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]),
  since,
}
