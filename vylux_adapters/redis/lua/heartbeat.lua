-- Extend a lease that is still held, not cancelled and not yet expired.
-- KEYS[1] task hash, [2] active zset
-- ARGV[1] task id, [2] lease token, [3] now (ms), [4] new deadline (ms)
-- Returns 1 when extended, 0 when the lease is lost.
local f = redis.call('HMGET', KEYS[1], 'state', 'lease_token', 'cancel_requested', 'deadline')
if f[1] ~= 'active' or f[2] ~= ARGV[2] or f[3] == '1' then
  return 0
end
-- Expired but not yet recovered: the recoverer may take it back at any moment, so
-- the worker must stop rather than race it.
if tonumber(f[4]) < tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], 'deadline', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
