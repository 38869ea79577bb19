-- Forget a task that succeeded, if the lease is still held.
-- KEYS[1] task hash, [2] active zset
-- ARGV[1] task id, [2] lease token
-- Returns 1 when removed, 0 when the lease was lost.
local f = redis.call('HMGET', KEYS[1], 'state', 'lease_token')
if f[1] ~= 'active' or f[2] ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
