import type { StoreError } from '@unified-bridge/store';
import { isStoreError } from '@unified-bridge/store';
import { RedisStore, type RedisStoreHealth } from '@unified-bridge/store-redis';
import { startRedis } from '@unified-bridge/testing';

async function failure(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    if (isStoreError(err)) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}

describe('RedisStore while Redis is unreachable', () => {
  it('should fail every call with StoreUnavailable (never hang), report the health, and recover by itself', async () => {
    await using redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
    await using store = new RedisStore({
      url: redis.url,
      commandTimeoutMs: 1000,
      retryAfterMs: 200,
      sweepIntervalMs: 0,
    });
    const states: RedisStoreHealth[] = [];
    store.onHealthChange((h) => states.push(h));
    await store.connect();
    expect([store.health, store.healthy]).toEqual(['ready', true]);
    const s = await store.createSession({ id: 'kept' });
    await store.registerVariable(s.id, { name: 'x', type: 'integer', value: 1 });

    await redis.kill('SIGKILL');
    const calls = [
      store.getSession(s.id),
      store.getVariable(s.id, 'x'),
      store.updateVariable(s.id, 'x', 2),
      store.createSession(),
      store.listSessions(),
      store.registerTool(null, { name: 't', owner: 'host' }),
    ];
    const started = Date.now();
    const errors = await Promise.all(calls.map(failure));
    const elapsed = Date.now() - started;
    for (const err of errors) {
      expect(err.type).toBe('StoreUnavailable');
      expect(err.retryAfterMs).toBe(200);
    }
    // Bounded by the command timeout (plus scheduling slack), never a hang.
    expect(elapsed).toBeLessThan(3_000);
    expect(store.healthy).toBe(false);
    expect(store.health).toBe('unavailable');
    const watch = await failure(store.watch(s.id)[Symbol.asyncIterator]().next());
    expect(watch.type).toBe('StoreUnavailable');

    await redis.restart();
    // The store reconnects on its own; wait for the health signal instead of sleeping.
    await store.connect(10_000);
    expect(store.healthy).toBe(true);
    expect(states).toEqual(expect.arrayContaining(['unavailable', 'ready']));
    expect(Number((await store.getVariable(s.id, 'x')).value)).toBe(1);
    expect((await store.updateVariable(s.id, 'x', 3)).version).toBe(1);
  });

  it('should resume a watch on its own when the connection comes back, losing no change', async () => {
    await using redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
    await using watcherSide = new RedisStore({ url: redis.url, retryAfterMs: 100, sweepIntervalMs: 0 });
    await using writerSide = new RedisStore({ url: redis.url, retryAfterMs: 100, sweepIntervalMs: 0 });
    const s = await writerSide.createSession();
    await writerSide.registerVariable(s.id, { name: 'x', type: 'integer', value: 0 });
    const w = watcherSide.watch(s.id)[Symbol.asyncIterator]();
    expect((await w.next()).value?.kind).toBe('synced');
    await redis.restart();
    await writerSide.connect(10_000);
    for (let i = 1; i <= 5; i++) {
      for (;;) {
        try {
          await writerSide.updateVariable(s.id, 'x', i);
          break;
        } catch (err) {
          if (!isStoreError(err, 'StoreUnavailable')) throw err;
          await writerSide.connect(10_000);
        }
      }
    }
    const revisions: number[] = [];
    for (let i = 0; i < 5; i++) revisions.push(((await w.next()).value as { revision: number }).revision);
    expect(revisions).toEqual([2, 3, 4, 5, 6]);
    await w.return?.();
  });

  it('should fail with StoreUnavailable within the timeout when Redis was never reachable', async () => {
    const redis = await startRedis();
    const url = redis.url;
    await redis.stop();
    await using store = new RedisStore({ url, commandTimeoutMs: 500, connectTimeoutMs: 200, sweepIntervalMs: 0 });
    const err = await failure(store.getSession('x'));
    expect(err.type).toBe('StoreUnavailable');
    expect(store.healthy).toBe(false);
    await expect(store.connect(300)).rejects.toMatchObject({ type: 'StoreUnavailable' });
  });
});
