import { ManualClock } from '@unified-bridge/store/conformance';
import { isStoreError } from '@unified-bridge/store';
import { RedisStore } from '@unified-bridge/store-redis';
import { startRedis, type StartedRedis } from '@unified-bridge/testing';
import { Redis } from 'ioredis';

// Sliding TTL and expiry: a session has a fixed number of keys, all with the same TTL, and
// expiry (by the clock, or by Redis's key TTL when nobody names the session) removes every one.
let redis: StartedRedis;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

/** Every key under a prefix. */
async function keysOf(prefix: string): Promise<string[]> {
  return (await raw.keys(`${prefix}*`)).sort();
}

async function errorType(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isStoreError(err)) return err.type;
    throw err;
  }
  return 'none';
}

describe('RedisStore expiry', () => {
  it('should keep a fixed number of keys per session, however many variables it holds', async () => {
    await using store = new RedisStore({ url: redis.url, keyPrefix: 'fixed:', sweepIntervalMs: 0 });
    const s = await store.createSession({ id: 's' });
    await store.registerTool(s.id, { name: 't', owner: 'host' });
    await store.registerVariable(s.id, { name: 'v0', type: 'integer', value: 0 });
    await store.updateVariable(s.id, 'v0', 1);
    const few = (await keysOf('fixed:{s}')).length;
    for (let i = 1; i < 200; i++) await store.registerVariable(s.id, { name: `v${i}`, type: 'integer', value: i });
    for (let i = 0; i < 200; i += 10) await store.updateVariable(s.id, `v${i}`, -i);
    expect((await keysOf('fixed:{s}')).length).toBe(few);
    expect(few).toBe(7);
  });

  it('should give every key of a session the sliding TTL, and slide it on every call', async () => {
    await using store = new RedisStore({ url: redis.url, keyPrefix: 'ttl:', keyTtlGraceMs: 1000, sweepIntervalMs: 0 });
    await store.createSession({ id: 's', ttlMs: 60_000 });
    await store.registerVariable('s', { name: 'x', type: 'float', value: 1 });
    await store.updateVariable('s', 'x', 2);
    await store.registerTool('s', { name: 't', owner: 'host' });
    for (const key of await keysOf('ttl:{s}')) {
      const ttl = await raw.pttl(key);
      // Data keys: idle TTL + grace; the tombstone key outlives them by the retention.
      expect(ttl).toBeGreaterThan(55_000);
      if (!key.endsWith(':x')) expect(ttl).toBeLessThanOrEqual(61_000);
    }
    await raw.pexpire('ttl:{s}:v', 5_000);
    await store.getVariable('s', 'x');
    expect(await raw.pttl('ttl:{s}:v')).toBeGreaterThan(55_000);
  });

  it('should remove every key of an expired session (by the clock) and report SessionExpired', async () => {
    const clock = new ManualClock();
    await using store = new RedisStore({
      url: redis.url,
      keyPrefix: 'exp:',
      clock,
      limits: { sessionTtlMs: 1000 },
      sweepIntervalMs: 0,
    });
    expect(await keysOf('exp:')).toEqual([]);
    await store.createSession({ id: 'a', owner: 'alice' });
    await store.registerVariable('a', { name: 'x', type: 'float', value: 1 });
    await store.updateVariable('a', 'x', 2);
    await store.registerTool('a', { name: 't', owner: 'w1' });
    const w = store.watch('a')[Symbol.asyncIterator]();
    expect((await w.next()).value?.kind).toBe('synced');
    expect((await keysOf('exp:{a}')).length).toBe(7);
    clock.advance(1000);
    expect(await errorType(store.getSession('a'))).toBe('SessionExpired');
    await expect(w.next()).rejects.toMatchObject({ type: 'SessionExpired' });
    // Only the tombstone is left (it names the owner, and has a TTL of its own).
    expect(await keysOf('exp:{a}')).toEqual(['exp:{a}:x']);
    expect(await raw.get('exp:{a}:x')).toBe('alice');
    expect(await raw.pttl('exp:{a}:x')).toBeGreaterThan(0);
    expect(await errorType(store.getVariable('a', 'x'))).toBe('SessionExpired');
    const again = await store.createSession({ id: 'a' });
    expect(again.variableCount).toBe(0);
  });

  it('should let Redis remove a session nobody names any more, leaving nothing behind', async () => {
    await using store = new RedisStore({
      url: redis.url,
      keyPrefix: 'backstop:',
      keyTtlGraceMs: 0,
      expiredRetentionMs: 300,
      sweepIntervalMs: 0,
    });
    await store.createSession({ id: 'b', ttlMs: 200 });
    await store.registerVariable('b', { name: 'x', type: 'float', value: 1 });
    await store.registerTool('b', { name: 't', owner: 'w1' });
    expect((await keysOf('backstop:{b}')).length).toBe(6);
    // Poll (bounded) until Redis's TTL removed the data keys: only the tombstone remains, so
    // the id still says SessionExpired.
    const deadline = Date.now() + 5_000;
    while ((await keysOf('backstop:{b}')).length > 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(await keysOf('backstop:{b}')).toEqual(['backstop:{b}:x']);
    expect(await errorType(store.getSession('b'))).toBe('SessionExpired');
    while ((await keysOf('backstop:{b}')).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(await keysOf('backstop:{b}')).toEqual([]);
    expect(await errorType(store.getSession('b'))).toBe('SessionNotFound');
  });

  it('should remove every key of a closed session, tombstone included', async () => {
    await using store = new RedisStore({ url: redis.url, keyPrefix: 'close:', sweepIntervalMs: 0 });
    await store.createSession({ id: 'c' });
    await store.registerVariable('c', { name: 'x', type: 'float', value: 1 });
    await store.closeSession('c');
    expect(await keysOf('close:{c}')).toEqual([]);
    expect(await errorType(store.getSession('c'))).toBe('SessionNotFound');
  });

  it('should end the watchers of an expired session on the sweep timer', async () => {
    const clock = new ManualClock();
    await using store = new RedisStore({
      url: redis.url,
      keyPrefix: 'sweep:',
      clock,
      limits: { sessionTtlMs: 1000 },
      sweepIntervalMs: 20,
    });
    await store.createSession({ id: 's' });
    const w = store.watch('s')[Symbol.asyncIterator]();
    expect((await w.next()).value?.kind).toBe('synced');
    const pending = w.next();
    clock.advance(1000);
    await expect(pending).rejects.toMatchObject({ type: 'SessionExpired' });
  });
});
