-- Add a task as pending unless its id is already held in this queue.
-- KEYS[1] task hash, KEYS[2] pending list
-- ARGV[1] task id, [2] type, [3] payload JSON, [4] queue, [5] max_retry,
--      [6] timeout seconds, [7] now (ms)
-- Returns 1 when added, 0 when the id is held (idempotent enqueue).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1],
  'type', ARGV[2], 'payload', ARGV[3], 'queue', ARGV[4],
  'retried', 0, 'max_retry', ARGV[5], 'timeout', ARGV[6],
  'state', 'pending', 'last_error', '', 'cancel_requested', 0,
  'pending_since', ARGV[7], 'enqueued_at', ARGV[7])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
