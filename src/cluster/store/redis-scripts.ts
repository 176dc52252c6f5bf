/**
 * The Lua scripts of the Redis store, one per mutation that touches several keys or must check before
 * it writes: Redis runs a script without interleaving other clients, which is what makes the lease and
 * fencing checks atomic. Each header names its KEYS and ARGV (BullMQ style). Lease key value: "<epoch>
 * <owner>" (owner may contain spaces: split at the first one), expiring with PX; the epoch counter key
 * never expires, so epochs keep growing across expiry and release.
 */

/** put(key, value). KEYS[1] index (sorted set of value keys, for list)  KEYS[2] value key. ARGV[1] value. */
export const PUT = `
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 0, KEYS[2])
return 1`;

/** delete(keys). KEYS[1] index  KEYS[2..] value keys. No ARGV. */
export const DELETE = `
for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[1], KEYS[i])
end
return 1`;

/**
 * acquireLease. KEYS[1] lease key  KEYS[2] epoch counter. ARGV[1] owner  ARGV[2] ttl ms  ARGV[3] floor.
 * Returns {epoch, raised}: raised is -1, or the counter's value when it was at or below the floor (an
 * epoch seen before: the store lost its counter, FLUSHDB) and the epoch was put above the floor;
 * nil while another owner holds the lease.
 */
export const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local sp = string.find(cur, ' ', 1, true)
  if string.sub(cur, sp + 1) ~= ARGV[1] then return false end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {tonumber(string.sub(cur, 1, sp - 1)), -1}
end
local epoch = redis.call('INCR', KEYS[2])
local raised = -1
local floor = tonumber(ARGV[3])
if floor and epoch <= floor then
  raised = epoch - 1
  epoch = floor + 1
  redis.call('SET', KEYS[2], epoch)
end
redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[1], 'PX', ARGV[2])
return {epoch, raised}`;

/**
 * renewLease. KEYS[1] lease key  KEYS[2] epoch counter. ARGV[1] owner  ARGV[2] epoch  ARGV[3] ttl ms.
 * Returns 1 when extended; also when the lease lapsed but the epoch did not move (nobody took it), 0 otherwise.
 */
export const RENEW = `
local mine = ARGV[2] .. ' ' .. ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur == mine then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if cur or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
return 1`;

/** releaseLease. KEYS[1] lease key. ARGV[1] owner  ARGV[2] epoch. Deletes the lease only if it is ours. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[2] .. ' ' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/**
 * putFenced. KEYS[1] epoch counter of the lease  KEYS[2] index  KEYS[3 .. 2+n] keys to write
 * KEYS[3+n ..] keys to delete. ARGV[1] epoch  ARGV[2] n  ARGV[3 .. 2+n] values.
 * Returns 1 when written, 0 (nothing written) when the epoch is no longer the latest.
 */
export const PUT_FENCED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
for i = 3 + n, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[2], KEYS[i])
end
for i = 1, n do
  redis.call('SET', KEYS[2 + i], ARGV[2 + i])
  redis.call('ZADD', KEYS[2], 0, KEYS[2 + i])
end
return 1`;
