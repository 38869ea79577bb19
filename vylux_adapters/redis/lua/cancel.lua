-- Cancel a task held in this queue.
-- KEYS[1] task hash, [2] pending list, [3] active zset, [4] scheduled zset,
--      [5] retry zset, [6] archived zset
-- ARGV[1] task id
-- Returns 'not_found' | 'signalled' (running: its worker drops it) | 'deleted'.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return 'not_found'
end
if state == 'active' then
  redis.call('HSET', KEYS[1], 'cancel_requested', 1)
  return 'signalled'
end
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('DEL', KEYS[1])
return 'deleted'
