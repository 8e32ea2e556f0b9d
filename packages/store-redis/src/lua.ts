// The server-side scripts of the Redis store. Every mutation of a session is one
// script over the session's seven keys (all with the session's `{id}` hash tag,
// so one slot: a script runs atomically on one node, also on Redis Cluster).
// Time comes in as an argument (the replicas' clock), never from the server.
//
// Session scripts get KEYS = the keys of `sessionKeys()` (s v n h e t x) and
// ARGV[1..4] = now (ms), pub/sub channel, tombstone retention (ms), key TTL
// grace (ms); their own arguments start at ARGV[5]. Replies are arrays whose
// first element is a status word ('OK', 'NOTFOUND', 'EXPIRED', ...).

/** Helpers every session script starts with. */
const PRELUDE = `
local S, V, N, H, E, T, X = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local NOW = tonumber(ARGV[1])
local CHAN = ARGV[2]
local RETAIN = tonumber(ARGV[3])
local GRACE = tonumber(ARGV[4])

-- Length-prefixed framing of pub/sub payloads: binary safe, cheap to parse.
local function ns(s) return #s .. ':' .. s end

-- The session expired: remove every data key, leave a tombstone naming the owner
-- (later use says SessionExpired), tell the watchers of every replica.
local function expire(owner)
  redis.call('DEL', S, V, N, H, E, T)
  redis.call('SET', X, owner, 'PX', RETAIN)
  redis.call('PUBLISH', CHAN, ns('X') .. ns(owner))
end

-- The live session: {owner, ttl, rev}, its lastUsedAt set to now when touch is
-- true; or nil and the error reply.
local function live(touch)
  local f = redis.call('HMGET', S, 'o', 'u', 'ttl', 'rev')
  if not f[2] then
    local owner = redis.call('GET', X)
    if owner then return nil, {'EXPIRED', owner} end
    return nil, {'NOTFOUND'}
  end
  local ttl = tonumber(f[3])
  if NOW >= tonumber(f[2]) + ttl then
    expire(f[1])
    return nil, {'EXPIRED', f[1]}
  end
  if touch then redis.call('HSET', S, 'u', ARGV[1]) end
  return {owner = f[1], ttl = ttl, rev = tonumber(f[4])}
end

-- Slides the real TTL of every key of the session (after the script's writes, so
-- keys it created get one too): the idle TTL plus a grace, the tombstone longer.
local function slide(ttl)
  local px = ttl + GRACE
  redis.call('PEXPIRE', S, px)
  redis.call('PEXPIRE', V, px)
  redis.call('PEXPIRE', N, px)
  redis.call('PEXPIRE', H, px)
  redis.call('PEXPIRE', E, px)
  redis.call('PEXPIRE', T, px)
  redis.call('PEXPIRE', X, px + RETAIN)
end

-- Resolves an identifier to a variable name: a name first, else an id (alt is the
-- name part of the id, '' when it has none).
local function resolve(ident, alt)
  if redis.call('HEXISTS', V, ident .. '|i') == 1 then return ident end
  if alt ~= '' and redis.call('HGET', V, alt .. '|i') == ident then return alt end
  return nil
end

-- A variable's record fields: id, static JSON (type, constraints, createdAt),
-- numbers 'version,revision,updatedAt,oldestHistoryVersion', metadata JSON and,
-- with value, the encoded value.
local function fields(name, value)
  if value then return redis.call('HMGET', V, name .. '|i', name .. '|t', name .. '|n', name .. '|m', name .. '|x') end
  return redis.call('HMGET', V, name .. '|i', name .. '|t', name .. '|n', name .. '|m')
end

-- The variable an identifier names and its fields with the value; nil when none.
local function variable(ident, alt)
  local name = resolve(ident, alt)
  if name then return name, fields(name, true) end
  return nil
end

local function nums(n)
  local v, r, u, m = string.match(n, '^(%d+),(%d+),(-?%d+),(%d+)$')
  return tonumber(v), tonumber(r), u, tonumber(m)
end
`;

/** Helpers of the scripts that change variables: revisions, change events, history. */
const WRITES = `
local EVENTS = {}
local EVENT_BYTES = 0

-- Records one change event in the session's stream (entry id = the revision,
-- trimmed to the watch window) and queues it for the pub/sub message.
local function emit(kind, rev, name, f, window)
  redis.call('XADD', E, 'MAXLEN', window, rev .. '-0', 'k', kind, 'v', name, 'i', f[1], 't', f[2], 'n', f[3], 'm', f[4], 'x', f[5])
  local e = ns(kind) .. ns(tostring(rev)) .. ns(name) .. ns(f[1]) .. ns(f[2]) .. ns(f[3]) .. ns(f[4]) .. ns(f[5])
  EVENTS[#EVENTS + 1] = e
  EVENT_BYTES = EVENT_BYTES + #e
end

-- Publishes the queued events in one message: inline when small, else only the
-- revision range (readers fetch the entries from the stream).
local function publish(inline)
  if #EVENTS == 0 then return end
  if EVENT_BYTES <= inline then
    redis.call('PUBLISH', CHAN, ns('E') .. table.concat(EVENTS))
  else
    local last = redis.call('HGET', S, 'rev')
    redis.call('PUBLISH', CHAN, ns('R') .. ns(last))
  end
end

local function next_rev() return redis.call('HINCRBY', S, 'rev', 1) end

-- Writes a new version of a variable: the current one moves into history
-- (keeping depth - 1 past versions), the new value, metadata and write metadata
-- replace it. Returns the new fields (as emit wants them) and numbers.
local function write_version(name, cur, value, meta, wmeta, depth)
  local ver, _, upd, hmin = nums(cur[3])
  local nv = ver + 1
  local keep = depth - 1
  if keep > 0 then
    local w = redis.call('HGET', V, name .. '|w') or '{}'
    redis.call('HSET', H, name .. '|' .. ver, upd .. '\\n' .. w .. '\\n' .. cur[5])
  end
  local lowest = nv
  if keep > 0 then lowest = nv - keep end
  if lowest > hmin then
    for old = hmin, lowest - 1 do redis.call('HDEL', H, name .. '|' .. old) end
    hmin = lowest
  end
  local rev = next_rev()
  local n = nv .. ',' .. rev .. ',' .. ARGV[1] .. ',' .. hmin
  redis.call('HSET', V, name .. '|n', n, name .. '|m', meta, name .. '|w', wmeta, name .. '|x', value)
  return {cur[1], cur[2], n, meta, value}, rev
end
`;

/** Removes every tool of an owner from a tools hash; returns how many. */
const PURGE = `
local function purge(hash, owner)
  local all = redis.call('HGETALL', hash)
  local removed = 0
  for i = 1, #all, 2 do
    local tool, kind = string.match(all[i], '^(.*)|(%a)$')
    if kind == 'o' and all[i + 1] == owner then
      redis.call('HDEL', hash, tool .. '|o', tool .. '|j')
      removed = removed + 1
    end
  end
  return removed
end
`;

/** Create a session. ARGV[5] ttl, [6] owner, [7] metadata JSON. */
const CREATE = `
local f = redis.call('HMGET', S, 'u', 'ttl', 'o')
if f[1] then
  if NOW < tonumber(f[1]) + tonumber(f[2]) then return {'EXISTS'} end
  expire(f[3])
end
redis.call('HSET', S, 'o', ARGV[6], 'md', ARGV[7], 'c', ARGV[1], 'u', ARGV[1], 'ttl', ARGV[5], 'rev', 0)
redis.call('SET', X, ARGV[6])
slide(tonumber(ARGV[5]))
return {'OK'}
`;

/** Get (and touch) a session. Reply: OK owner metadata createdAt lastUsedAt ttl revision variables tools. */
const SESSION = `
local f = redis.call('HMGET', S, 'md', 'c')
return {'OK', s.owner, f[1], f[2], ARGV[1], s.ttl, s.rev, redis.call('ZCARD', N), redis.call('HLEN', T) / 2}
`;

/**
 * Read a session without touching it (listing, the expiry sweep). ARGV[5] '1'
 * expires it when its TTL has passed. Reply like SESSION.
 */
const PEEK = `
local f = redis.call('HMGET', S, 'o', 'md', 'c', 'u', 'ttl', 'rev')
if not f[4] then
  local owner = redis.call('GET', X)
  if owner then return {'EXPIRED', owner} end
  return {'NOTFOUND'}
end
if NOW >= tonumber(f[4]) + tonumber(f[5]) then
  if ARGV[5] == '1' then expire(f[1]) end
  return {'EXPIRED', f[1]}
end
return {'OK', f[1], f[2], f[3], f[4], tonumber(f[5]), tonumber(f[6]), redis.call('ZCARD', N), redis.call('HLEN', T) / 2}
`;

/** Close a session: delete every key (no tombstone) and tell the watchers. Reply: OK revision. */
const CLOSE = `
local s, err = live(false)
if err then return err end
redis.call('DEL', S, V, N, H, E, T, X)
redis.call('PUBLISH', CHAN, ns('C') .. ns(tostring(s.rev)))
return {'OK', s.rev}
`;

/**
 * Register a variable. ARGV[5] name, [6] id, [7] static JSON, [8] metadata JSON,
 * [9] value, [10] maxVariablesPerSession, [11] watch window, [12] inline bytes,
 * [13] '1' only checks (name free, room left) and writes nothing. Reply: OK revision.
 */
const REGISTER = `
local name = ARGV[5]
local result
if redis.call('HEXISTS', V, name .. '|i') == 1 then
  result = {'EXISTS'}
elseif redis.call('ZCARD', N) >= tonumber(ARGV[10]) then
  result = {'FULL'}
elseif ARGV[13] == '1' then
  result = {'OK', 0}
else
  local rev = next_rev()
  local n = '0,' .. rev .. ',' .. ARGV[1] .. ',0'
  redis.call('HSET', V, name .. '|i', ARGV[6], name .. '|t', ARGV[7], name .. '|n', n, name .. '|m', ARGV[8], name .. '|w', ARGV[8], name .. '|x', ARGV[9])
  redis.call('ZADD', N, 0, name)
  emit('created', rev, name, {ARGV[6], ARGV[7], n, ARGV[8], ARGV[9]}, ARGV[11])
  publish(tonumber(ARGV[12]))
  result = {'OK', rev}
end
return result
`;

/**
 * Read variables. ARGV[5] '1' with values, then pairs (identifier, name part of
 * the identifier as an id or ''). Reply: OK, then per identifier {name, id,
 * static, numbers, metadata[, value]} or {} when it names no variable.
 */
const GET = `
local out = {'OK'}
local value = ARGV[5] == '1'
for i = 6, #ARGV, 2 do
  local name = resolve(ARGV[i], ARGV[i + 1])
  if name then
    local f = fields(name, value)
    table.insert(f, 1, name)
    out[#out + 1] = f
  else
    out[#out + 1] = {}
  end
end
return out
`;

/**
 * Write variables (updateVariable, batches). ARGV[5] mode ('atomic': all or
 * nothing; 'each': every update on its own; 'check': report failures, write
 * nothing), [6] historyDepth, [7] watch window, [8] inline bytes, [9] metadata
 * entry limit, then seven per update: identifier, its name part as an id or '',
 * the id the caller resolved it to, expected version or '', write metadata JSON
 * or '', value, '1' to check it only (the caller found it invalid). When an
 * identifier no longer names the variable the caller resolved (deleted, or registered anew), nothing is written and the reply is
 * STALE. Reply: OK, then per update {'OK', numbers, metadata} or {'CONFLICT',
 * version} or {'METAFULL', metadata}.
 */
const UPDATE = `
local mode, depth, window, inline, maxmeta = ARGV[5], tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
local plan = {}
local failed = false
for i = 10, #ARGV, 7 do
  local name = resolve(ARGV[i], ARGV[i + 1])
  local cur = name and fields(name, true)
  if not cur or cur[1] ~= ARGV[i + 2] then
    return {'STALE'}
  end
  local ver = nums(cur[3])
  local p = {name = name, cur = cur, value = ARGV[i + 5], meta = cur[4], wmeta = '{}', check = ARGV[i + 6] == '1'}
  if ARGV[i + 3] ~= '' and tonumber(ARGV[i + 3]) ~= ver then
    p.fail = {'CONFLICT', ver}
  elseif ARGV[i + 4] ~= '' then
    local merged = cjson.decode(cur[4])
    local count = 0
    for _ in pairs(merged) do count = count + 1 end
    for k, v in pairs(cjson.decode(ARGV[i + 4])) do
      if merged[k] == nil then count = count + 1 end
      merged[k] = v
    end
    if count > maxmeta then
      p.fail = {'METAFULL', cur[4]}
    else
      p.meta = cjson.encode(merged)
      p.wmeta = ARGV[i + 4]
    end
  end
  if p.fail then failed = true end
  plan[#plan + 1] = p
end
local out = {'OK'}
local apply = mode == 'each' or (mode == 'atomic' and not failed)
for _, p in ipairs(plan) do
  if p.fail then
    out[#out + 1] = p.fail
  elseif apply and not p.check then
    local f, rev = write_version(p.name, p.cur, p.value, p.meta, p.wmeta, depth)
    emit('updated', rev, p.name, f, window)
    out[#out + 1] = {'OK', f[3], f[4]}
  else
    out[#out + 1] = {'OK'}
  end
end
publish(inline)
return out
`;

/**
 * Delete a variable and its history. ARGV[5] identifier, [6] its name part as
 * an id or '', [7] watch window, [8] inline bytes. Reply: OK revision name id
 * static numbers metadata value (the last state).
 */
const DELETE = `
local name, f = variable(ARGV[5], ARGV[6])
if not name then return {'NOTFOUND_VAR'} end
local ver, _, _, hmin = nums(f[3])
redis.call('HDEL', V, name .. '|i', name .. '|t', name .. '|n', name .. '|m', name .. '|w', name .. '|x')
redis.call('ZREM', N, name)
for old = hmin, ver - 1 do redis.call('HDEL', H, name .. '|' .. old) end
local rev = next_rev()
emit('deleted', rev, name, f, ARGV[7])
publish(tonumber(ARGV[8]))
return {'OK', rev, name, f[1], f[2], f[3], f[4], f[5]}
`;

/**
 * A variable's history, newest first. ARGV[5] identifier, [6] its name part as
 * an id or '', [7] most entries to return. Reply: OK name id static, then per
 * entry {version, updatedAt, write metadata JSON, value}.
 */
const HISTORY = `
local name, f = variable(ARGV[5], ARGV[6])
if not name then return {'NOTFOUND_VAR'} end
local ver, _, upd, hmin = nums(f[3])
local max = tonumber(ARGV[7])
local out = {'OK', name, f[1], f[2]}
if max > 0 then
  out[#out + 1] = {ver, upd, redis.call('HGET', V, name .. '|w') or '{}', f[5]}
  local old = ver - 1
  while old >= hmin and #out - 4 < max do
    local e = redis.call('HGET', H, name .. '|' .. old)
    if e then
      local u, w, x = string.match(e, '^(-?%d+)\\n([^\\n]*)\\n(.*)$')
      out[#out + 1] = {old, u, w, x}
    end
    old = old - 1
  end
end
return out
`;

/**
 * Roll a variable back: write the value of a retained version as a new version.
 * ARGV[5] identifier, [6] its name part as an id or '', [7] target version,
 * [8] expected version or '', [9] historyDepth, [10] watch window, [11] inline
 * bytes. Reply: OK name id static numbers metadata value, or CONFLICT version
 * name, or NOTRETAINED name.
 */
const ROLLBACK = `
local name, cur = variable(ARGV[5], ARGV[6])
local result
if not name then
  result = {'NOTFOUND_VAR'}
else
  local ver, _, _, hmin = nums(cur[3])
  local target, depth = tonumber(ARGV[7]), tonumber(ARGV[9])
  if ARGV[8] ~= '' and tonumber(ARGV[8]) ~= ver then
    result = {'CONFLICT', ver, name}
  else
    local value
    if depth > 0 and target == ver then
      value = cur[5]
    elseif target < ver and target >= hmin then
      local e = redis.call('HGET', H, name .. '|' .. target)
      if e then value = string.match(e, '^-?%d+\\n[^\\n]*\\n(.*)$') end
    end
    if not value then
      result = {'NOTRETAINED', name}
    else
      local f, rev = write_version(name, cur, value, cur[4], '{}', depth)
      emit('rolled_back', rev, name, f, ARGV[10])
      publish(tonumber(ARGV[11]))
      result = {'OK', name, f[1], f[2], f[3], f[4], f[5]}
    end
  end
end
return result
`;

/** Variable names in order after ARGV[5] ('' from the start), at most ARGV[6]. Reply: OK names... */
const NAMES = `
local from = '-'
if ARGV[5] ~= '' then from = '(' .. ARGV[5] end
local out = redis.call('ZRANGEBYLEX', N, from, '+', 'LIMIT', 0, tonumber(ARGV[6]))
table.insert(out, 1, 'OK')
return out
`;

/**
 * Start a watch: the session's revision, the oldest revision the stream still
 * holds (-1 when none), initial records and the retained changes after a
 * revision. ARGV[5] since ('' for none), [6] '1' for initial values, [7] '*'
 * for every variable or '', then the watched names. Reply: OK revision oldest
 * {initial records as GET} {stream entries}.
 */
const WATCH = `
local oldest = -1
local first = redis.call('XRANGE', E, '-', '+', 'COUNT', 1)[1]
if first then oldest = tonumber(string.match(first[1], '^(%d+)')) end
local initial = {}
if ARGV[6] == '1' then
  local names
  if ARGV[7] == '*' then names = redis.call('ZRANGE', N, 0, -1) else names = {unpack(ARGV, 8)} end
  for _, name in ipairs(names) do
    if redis.call('HEXISTS', V, name .. '|i') == 1 then
      local f = fields(name, true)
      table.insert(f, 1, name)
      initial[#initial + 1] = f
    end
  end
end
local replay = {}
if ARGV[5] ~= '' then
  local since = tonumber(ARGV[5])
  if since < s.rev and oldest ~= -1 and since >= oldest - 1 then
    replay = redis.call('XRANGE', E, (since + 1) .. '-0', '+')
  end
end
return {'OK', s.rev, oldest, initial, replay}
`;

/**
 * Register a tool in the session. ARGV[5] name, [6] owner, [7] tool JSON,
 * [8] maxToolsPerSession. Reply: OK, or TAKEN owner, or FULL.
 */
const TOOL_SET = `
local name = ARGV[5]
local cur = redis.call('HGET', T, name .. '|o')
local result = {'OK'}
if cur and cur ~= ARGV[6] then
  result = {'TAKEN', cur}
elseif not cur and redis.call('HLEN', T) / 2 >= tonumber(ARGV[8]) then
  result = {'FULL'}
else
  redis.call('HSET', T, name .. '|o', ARGV[6], name .. '|j', ARGV[7])
end
return result
`;

/**
 * Remove a tool of an owner from the session. ARGV[5] name, [6] owner, [7] the
 * tool JSON it must still have ('' for any). Reply: OK or NOTOWNED.
 */
const TOOL_DELETE = `
local name = ARGV[5]
local result = {'OK'}
if redis.call('HGET', T, name .. '|o') ~= ARGV[6] or (ARGV[7] ~= '' and redis.call('HGET', T, name .. '|j') ~= ARGV[7]) then
  result = {'NOTOWNED'}
else
  redis.call('HDEL', T, name .. '|o', name .. '|j')
end
return result
`;

/** The session's tools. ARGV[5] a name ('' for all). Reply: OK, then name owner JSON per tool. */
const TOOL_GET = `
local out = {'OK'}
if ARGV[5] ~= '' then
  local f = redis.call('HMGET', T, ARGV[5] .. '|o', ARGV[5] .. '|j')
  if f[1] then out = {'OK', ARGV[5], f[1], f[2]} end
else
  local all = redis.call('HGETALL', T)
  for i = 1, #all, 2 do
    local name, kind = string.match(all[i], '^(.*)|(%a)$')
    if kind == 'o' then
      out[#out + 1] = name
      out[#out + 1] = all[i + 1]
      out[#out + 1] = redis.call('HGET', T, name .. '|j')
    end
  end
end
return out
`;

/**
 * Whether the session (live, not touched) has a tool: ARGV[5] name, [6] an owner
 * whose tools to remove instead ('' for none). Reply: OK owner-or-'' / OK removed-count.
 */
const TOOL_SCAN = `
local s, err = live(false)
if err then return {'OK', ''} end
if ARGV[6] ~= '' then return {'OK', purge(T, ARGV[6])} end
return {'OK', redis.call('HGET', T, ARGV[5] .. '|o') or ''}
`;

/**
 * Global tools (KEYS[1] the global tools hash). ARGV[1] op ('set', 'delete',
 * 'restore', 'purge'), [2] name or owner, then op arguments. Replies as TOOL_SET
 * and TOOL_DELETE; 'set' also returns the previous owner and JSON (for undo),
 * 'purge' the number removed.
 */
const GLOBAL_TOOLS = `
local G = KEYS[1]
local op, name = ARGV[1], ARGV[2]
if op == 'set' then
  local cur = redis.call('HMGET', G, name .. '|o', name .. '|j')
  if cur[1] and cur[1] ~= ARGV[3] then return {'TAKEN', cur[1]} end
  if not cur[1] and redis.call('HLEN', G) / 2 >= tonumber(ARGV[5]) then return {'FULL'} end
  redis.call('HSET', G, name .. '|o', ARGV[3], name .. '|j', ARGV[4])
  return {'OK', cur[1] or '', cur[2] or ''}
elseif op == 'delete' then
  if redis.call('HGET', G, name .. '|o') ~= ARGV[3] then return {'NOTOWNED'} end
  redis.call('HDEL', G, name .. '|o', name .. '|j')
  return {'OK'}
elseif op == 'restore' then
  -- Undo a 'set' (ARGV[3] the JSON it wrote) if nobody replaced it since.
  if redis.call('HGET', G, name .. '|j') == ARGV[3] then
    if ARGV[4] == '' then redis.call('HDEL', G, name .. '|o', name .. '|j')
    else redis.call('HSET', G, name .. '|o', ARGV[4], name .. '|j', ARGV[5]) end
  end
  return {'OK'}
end
return {'OK', purge(G, name)}
`;

/**
 * The session index (KEYS[1] ids in lexical order, KEYS[2] ids scored by a lower
 * bound of their expiry). ARGV[1] op, [2] id, then op arguments:
 * 'reserve' expiresAt max -> ADDED | PRESENT | FULL; 'refresh' expiresAt;
 * 'remove'; 'removeif' now (only an entry due by then); 'due' now count -> ids.
 */
const SESSION_INDEX = `
local L, D = KEYS[1], KEYS[2]
local op, id = ARGV[1], ARGV[2]
if op == 'reserve' then
  if redis.call('ZSCORE', D, id) then
    redis.call('ZADD', D, ARGV[3], id)
    return 'PRESENT'
  end
  if redis.call('ZCARD', D) >= tonumber(ARGV[4]) then return 'FULL' end
  redis.call('ZADD', L, 0, id)
  redis.call('ZADD', D, ARGV[3], id)
  return 'ADDED'
elseif op == 'refresh' then
  redis.call('ZADD', D, 'XX', ARGV[3], id)
  return 'OK'
elseif op == 'remove' then
  redis.call('ZREM', L, id)
  redis.call('ZREM', D, id)
  return 'OK'
elseif op == 'removeif' then
  local score = redis.call('ZSCORE', D, id)
  if score and tonumber(score) <= tonumber(ARGV[3]) then
    redis.call('ZREM', L, id)
    redis.call('ZREM', D, id)
  end
  return 'OK'
end
return redis.call('ZRANGEBYSCORE', D, '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
`;

/**
 * A session script from its body: the body runs as a function of the live session (touched: its
 * lastUsedAt is now), and every key of the session gets the sliding TTL after it, whatever it wrote.
 */
function touching(body: string, library = ''): string {
  return `${PRELUDE}${library}
local function body(s)
${body}
end
local s, err = live(true)
if err then return err end
local reply = body(s)
slide(s.ttl)
return reply
`;
}

/** The scripts by command name, each with its number of keys and full source. */
export const SCRIPTS = Object.freeze({
  ubCreate: { keys: 7, lua: PRELUDE + CREATE },
  ubSession: { keys: 7, lua: touching(SESSION) },
  ubPeek: { keys: 7, lua: PRELUDE + PEEK },
  ubClose: { keys: 7, lua: PRELUDE + CLOSE },
  ubRegister: { keys: 7, lua: touching(REGISTER, WRITES) },
  ubGet: { keys: 7, lua: touching(GET) },
  ubUpdate: { keys: 7, lua: touching(UPDATE, WRITES) },
  ubDelete: { keys: 7, lua: touching(DELETE, WRITES) },
  ubHistory: { keys: 7, lua: touching(HISTORY) },
  ubRollback: { keys: 7, lua: touching(ROLLBACK, WRITES) },
  ubNames: { keys: 7, lua: touching(NAMES) },
  ubWatch: { keys: 7, lua: touching(WATCH) },
  ubToolSet: { keys: 7, lua: touching(TOOL_SET) },
  ubToolDelete: { keys: 7, lua: touching(TOOL_DELETE) },
  ubToolGet: { keys: 7, lua: touching(TOOL_GET) },
  ubToolScan: { keys: 7, lua: PRELUDE + PURGE + TOOL_SCAN },
  ubGlobalTools: { keys: 1, lua: PURGE + GLOBAL_TOOLS },
  ubSessionIndex: { keys: 2, lua: SESSION_INDEX },
});

/** The name of one server-side script. */
export type ScriptName = keyof typeof SCRIPTS;
