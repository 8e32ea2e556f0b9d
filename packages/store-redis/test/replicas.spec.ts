import type { WatchEvent } from '@unified-bridge/store';
import { isStoreError } from '@unified-bridge/store';
import { RedisStore } from '@unified-bridge/store-redis';
import { startRedis, type StartedRedis } from '@unified-bridge/testing';

// Two RedisStore instances on one Redis stand for two server replicas: what one writes the
// other reads and watches, CAS holds across them, and limits count every replica's sessions.
let redis: StartedRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

let n = 0;
function replicas(count: number, options: ConstructorParameters<typeof RedisStore>[0] = {}): RedisStore[] {
  const keyPrefix = `r${n++}:`;
  return Array.from(
    { length: count },
    () => new RedisStore({ url: redis.url, keyPrefix, sweepIntervalMs: 0, ...options }),
  );
}

describe('RedisStore replicas', () => {
  it('should show a watcher on one replica the writes of another, in order and exactly once', async () => {
    const [a, b] = replicas(2);
    try {
      const s = await a!.createSession();
      await a!.registerVariable(s.id, { name: 'x', type: 'integer', value: 0 });
      const w = b!.watch(s.id)[Symbol.asyncIterator]();
      expect((await w.next()).value).toEqual({ kind: 'synced', revision: 1 });
      for (let i = 1; i <= 20; i++) await a!.updateVariable(s.id, 'x', i);
      await a!.updateVariables(s.id, [{ identifier: 'x', value: 100 }], { atomic: true });
      await a!.deleteVariable(s.id, 'x');
      const got: WatchEvent[] = [];
      for (let i = 0; i < 22; i++) got.push((await w.next()).value as WatchEvent);
      expect(got.map((e) => e.revision)).toEqual(Array.from({ length: 22 }, (_, i) => i + 2));
      expect(got.slice(0, 20).map((e) => Number(e.variable?.value))).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(got[21]?.kind).toBe('deleted');
      await w.return?.();
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('should read large changes from the stream when the notification carries only the revision', async () => {
    const [a, b] = replicas(2, { inlineEventBytes: 16 });
    try {
      const s = await a!.createSession();
      await a!.registerVariable(s.id, {
        name: 'e',
        type: 'embedding',
        value: [0, 0, 0],
        constraints: { dimensions: 3 },
      });
      const w = b!.watch(s.id, { sinceRevision: 0 })[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('created');
      expect((await w.next()).value?.kind).toBe('synced');
      await a!.updateVariable(s.id, 'e', [1, 2, 3]);
      const e = (await w.next()).value as WatchEvent;
      expect([e.kind, e.revision, Array.from(e.variable?.value as Float64Array)]).toEqual(['updated', 2, [1, 2, 3]]);
      await w.return?.();
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('should end the watchers of every replica when one replica closes the session', async () => {
    const [a, b] = replicas(2);
    try {
      const s = await a!.createSession();
      const w = b!.watch(s.id)[Symbol.asyncIterator]();
      expect((await w.next()).value?.kind).toBe('synced');
      await a!.closeSession(s.id);
      await expect(w.next()).rejects.toMatchObject({ type: 'SessionNotFound' });
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('should end 4 replicas x 25 concurrent CAS increments at exactly 100', async () => {
    const stores = replicas(4);
    try {
      const s = await stores[0]!.createSession();
      await stores[0]!.registerVariable(s.id, { name: 'counter', type: 'integer', value: 0 });
      let conflicts = 0;
      await Promise.all(
        stores.flatMap((store) =>
          Array.from({ length: 25 }, async () => {
            for (;;) {
              const cur = await store.getVariable(s.id, 'counter');
              try {
                await store.updateVariable(s.id, 'counter', Number(cur.value) + 1, { expectedVersion: cur.version });
                return;
              } catch (err) {
                if (!isStoreError(err, 'VersionConflict')) throw err;
                conflicts++;
              }
            }
          }),
        ),
      );
      const v = await stores[3]!.getVariable(s.id, 'counter');
      expect([Number(v.value), v.version]).toEqual([100, 100]);
      expect(conflicts).toBeGreaterThan(0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('should never show a reader on another replica half of an atomic batch', async () => {
    const [writer, reader] = replicas(2);
    try {
      const s = await writer!.createSession();
      await writer!.registerVariable(s.id, { name: 'x', type: 'integer', value: 0 });
      await writer!.registerVariable(s.id, { name: 'y', type: 'integer', value: 0 });
      let done = false;
      const writes = (async () => {
        for (let i = 1; i <= 100; i++) {
          await writer!.updateVariables(
            s.id,
            [
              { identifier: 'x', value: i },
              { identifier: 'y', value: i },
            ],
            { atomic: true },
          );
        }
        done = true;
      })();
      let reads = 0;
      while (!done) {
        const { found } = await reader!.getVariables(s.id, ['x', 'y']);
        expect(found.get('x')?.value).toBe(found.get('y')?.value);
        reads++;
      }
      await writes;
      expect(reads).toBeGreaterThan(0);
    } finally {
      await Promise.all([writer!.close(), reader!.close()]);
    }
  });

  it("should hold maxSessions across replicas and list every replica's sessions", async () => {
    const [a, b] = replicas(2, { limits: { maxSessions: 3 } });
    try {
      await a!.createSession({ id: 's1' });
      await b!.createSession({ id: 's2' });
      await a!.createSession({ id: 's3' });
      await expect(b!.createSession({ id: 's4' })).rejects.toMatchObject({
        type: 'ResourceExhausted',
        limit: 'maxSessions',
      });
      expect((await b!.listSessions()).sessions.map((x) => x.id)).toEqual(['s1', 's2', 's3']);
      await a!.closeSession('s2');
      await b!.createSession({ id: 's4' });
      expect((await a!.listSessions()).sessions.map((x) => x.id)).toEqual(['s1', 's3', 's4']);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('should keep global and session tool names disjoint across replicas', async () => {
    const [a, b] = replicas(2);
    try {
      await a!.createSession({ id: 's' });
      await a!.registerTool('s', { name: 'search', owner: 'w1' });
      await expect(b!.registerTool(null, { name: 'search', owner: 'host' })).rejects.toMatchObject({
        type: 'AlreadyExists',
        details: { session: 's' },
      });
      await b!.registerTool(null, { name: 'add', owner: 'host' });
      await expect(a!.registerTool('s', { name: 'add', owner: 'w1' })).rejects.toMatchObject({ type: 'AlreadyExists' });
      expect((await a!.listTools('s')).tools.map((t) => t.name)).toEqual(['add', 'search']);
      expect(await b!.removeToolsOf('w1')).toBe(1);
      expect((await a!.getSession('s')).toolCount).toBe(1);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
