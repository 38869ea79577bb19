-- Hand a leased task back to the front of pending without counting an attempt.
-- KEYS[1] task hash, [2] active zset, [3] pending list
-- ARGV[1] task id, [2] lease token
-- Returns 1 when the task is pending again, 0 when the lease was lost or the task
-- was cancelled (and is now dropped).
local f = redis.call('HMGET', KEYS[1], 'state', 'lease_token', 'cancel_requested')
if f[1] ~= 'active' or f[2] ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if f[3] == '1' then
  redis.call('DEL', KEYS[1])
  return 0
end
-- pending_since is left as it was: the task was first in line and stays first, so the
-- head of the list keeps the oldest pending_since, which is what stats reads.
redis.call('HDEL', KEYS[1], 'worker_id', 'lease_token', 'deadline')
redis.call('HSET', KEYS[1], 'state', 'pending')
redis.call('LPUSH', KEYS[3], ARGV[1])
return 1
