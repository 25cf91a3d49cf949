// The room registry's atomic steps, as Lua scripts run by Redis (one script
// runs alone: no other client's command interleaves). Keys (prefix P, e.g.
// "confide:"):
//   P room:<roomId>         string: the hosting node's id; PX = room TTL
//   P node:<nodeId>         string: the node's JSON record; PX = node TTL (its heartbeat)
//   P node:<nodeId>:rooms   set: the room ids this node was given (for take-over and clean-up)
//   P nodes                 set: every node id ever announced and not yet reaped
// A node is live while its record exists. Scripts that must check an owner
// found on the way build that owner's key from P: fine on one Redis (or a
// primary with replicas), not on Redis Cluster (docs/architecture.md).

/** A script: how many of its arguments are keys, and its Lua text. */
export interface LuaScript {
  numberOfKeys: number;
  lua: string;
}

/**
 * place(KEYS[1]=room key; ARGV: candidate node id, room TTL ms, prefix, room id)
 * → the hosting node's id. A live owner stays; otherwise (no entry, or its
 * owner's record is gone) the candidate gets the room, indexed under its set.
 * claim() is place() with the caller as candidate.
 */
export const PLACE: LuaScript = {
  numberOfKeys: 1,
  lua: `
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[3] .. 'node:' .. owner) == 1 then return owner end
if owner then redis.call('SREM', ARGV[3] .. 'node:' .. owner .. ':rooms', ARGV[4]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', ARGV[3] .. 'node:' .. ARGV[1] .. ':rooms', ARGV[4])
return ARGV[1]
`,
};

/** renew(KEYS[1]=room key; ARGV: node id, room TTL ms) → 1 if that node owns it (TTL reset), else 0. */
export const RENEW: LuaScript = {
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
};

/** release(KEYS[1]=room key, KEYS[2]=node's room set; ARGV: node id, room id) → 1 if that node owned it (deleted), else 0. */
export const RELEASE: LuaScript = {
  numberOfKeys: 2,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
return 0
`,
};

/**
 * reap(KEYS[1]=dead node's record, KEYS[2]=its room set, KEYS[3]=node set;
 * ARGV: dead node id, prefix) → how many room entries it still held (now
 * deleted). Does nothing (returns -1) if the node's record exists: a node
 * that came back in time is not reaped.
 */
export const REAP: LuaScript = {
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local n = 0
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[2] .. 'room:' .. room
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return n
`,
};
