// The read cache as sessions use it (TTL, coherence through a watch stream, read-your-writes) and
// session.watch(), against an in-memory FakeBridge.
import { create } from '@bufbuild/protobuf';
import { Code, type ConnectError } from '@connectrpc/connect';
import { ErrorType, ValueSchema } from '@unified-bridge/proto';
import { eventually } from '../test/support/eventually.js';
import { wireError, type FakeBridge } from '../test/support/fake-bridge.js';
import { startFakeSession } from '../test/support/fake-session.js';
import { setCacheClockForTesting } from './cache.js';
import type { BridgeClient } from './client.js';
import type { BridgeClientOptions } from './client-options.js';
import type { Session } from './session.js';
import type { VariableEvent } from './watch.js';

const unavailable = (): ConnectError => wireError(Code.Unavailable, ErrorType.UNAVAILABLE, 'down');

describe('Session cache and watch (in-memory transport)', () => {
  let fake: FakeBridge;
  let client: BridgeClient;
  let session: Session;

  async function setup(opts: Partial<BridgeClientOptions> = {}): Promise<void> {
    ({ fake, client, session } = await startFakeSession(opts));
  }

  afterEach(async () => {
    await client?.close();
  });

  describe('cache', () => {
    /** Makes the caches created in this test read a clock the test advances by hand (no sleeps). */
    function useManualClock(): { advance(ms: number): void } {
      let now = 1_000_000;
      setCacheClockForTesting({ now: () => now });
      return {
        advance(ms) {
          now += ms;
        },
      };
    }

    afterEach(() => setCacheClockForTesting(undefined));

    it('should coalesce 100 concurrent cold reads into one RPC', async () => {
      await setup();
      await session.register('a', 'integer', 42);
      client.cache.clear();
      fake.getDelayMs = 5;
      const values = await Promise.all(Array.from({ length: 100 }, () => session.get('a')));
      expect(values.every((v) => v === 42)).toBe(true);
      expect(fake.count('getVariable')).toBe(1);
      expect(client.cache.stats()).toMatchObject({ misses: 100, hits: 0 });
      expect(await session.get('a')).toBe(42);
      expect(client.cache.stats().hits).toBe(1);
    });

    it('should never return a version older than its own write (read-your-writes)', async () => {
      await setup();
      await session.register('a', 'integer', 0);
      client.cache.clear();
      fake.getDelayMs = 20;
      const slowRead = session.get('a'); // starts before the write, answers after it
      await new Promise((r) => setImmediate(r));
      await session.set('a', 1);
      expect(await session.get('a')).toBe(1);
      expect([0, 1]).toContain(await slowRead);
      expect(await session.get('a')).toBe(1); // the late read did not overwrite the newer entry
    });

    it('should serve a value for at most the TTL in ttl mode', async () => {
      const clock = useManualClock();
      await setup({ cache: { ttlMs: 30 } });
      await session.register('a', 'integer', 0);
      fake.externalSet('s1', 'a', create(ValueSchema, { kind: { case: 'intValue', value: 5n } }));
      clock.advance(30);
      expect(session.peek('a')).toBe(0); // at the TTL: still cached
      clock.advance(1);
      expect(session.peek('a')).toBeUndefined(); // past it: expired
      expect(await session.get('a')).toBe(5);
    });

    it('should evict least recently used entries and count evictions', async () => {
      await setup({ cache: { maxEntries: 2 } });
      for (const n of ['a', 'b', 'c']) await session.register(n, 'integer', 1);
      expect(client.cache.stats()).toMatchObject({ size: 2, evictions: 1 });
      expect(session.peek('a')).toBeUndefined();
      expect(session.peek('c')).toBe(1);
    });

    it('should clear one session or all, and apply a new TTL to new entries', async () => {
      const clock = useManualClock();
      await setup({ cache: { ttlMs: 60_000 } });
      const other = await client.createSession({ id: 's2' });
      await session.register('a', 'integer', 1);
      await other.register('a', 'integer', 2);
      client.cache.clear('s2');
      expect(session.peek('a')).toBe(1);
      expect(other.peek('a')).toBeUndefined();
      client.cache.setTtl(10);
      expect(() => client.cache.setTtl(0)).toThrow(/ttlMs/);
      await other.get('a'); // stored with the new TTL
      clock.advance(11);
      expect(other.peek('a')).toBeUndefined(); // the short TTL has passed
      expect(session.peek('a')).toBe(1); // stored before, with the long TTL
      client.cache.clear();
      expect(session.peek('a')).toBeUndefined();
      expect(client.cache.stats().size).toBe(0);
    });

    it('should not cache at all with cache: false', async () => {
      await setup({ cache: false });
      await session.register('a', 'integer', 1);
      await session.get('a');
      await session.get('a');
      expect(fake.count('getVariable')).toBe(2);
      expect(client.cache.mode).toBe('off');
    });

    it('should keep entries fresh from the watch stream in watch mode', async () => {
      const clock = useManualClock();
      await setup({ cache: { mode: 'watch', ttlMs: 10 } });
      await session.register('a', 'integer', 1);
      await eventually(() => session.peek('a') === 1, 'the stream to be live');
      const other = fake.externalSet('s1', 'a', create(ValueSchema, { kind: { case: 'intValue', value: 2n } }));
      await eventually(() => session.peek('a') === 2, 'the event to arrive');
      expect(await session.getVariable('a')).toMatchObject({ version: other.version === 1n ? 1 : -1 });
      const reads = fake.count('getVariable');
      clock.advance(60_000); // far longer than ttlMs: watch entries do not expire
      expect(session.peek('a')).toBe(2);
      expect(fake.count('getVariable')).toBe(reads);
    });

    it('should resume the coherence stream after a cut and clear on Compacted', async () => {
      await setup({ cache: { mode: 'watch' } });
      await session.register('a', 'integer', 1);
      await eventually(() => session.peek('a') === 1, 'the stream to be live');
      fake.cutWatches(unavailable());
      await eventually(() => fake.count('watchVariables') === 2 && session.peek('a') === 1, 'the resume');
      fake.externalSet('s1', 'a', create(ValueSchema, { kind: { case: 'intValue', value: 3n } }));
      await eventually(() => session.peek('a') === 3, 'the event after the resume');

      fake.oldestRevision = 1000n;
      fake.cutWatches(unavailable());
      fake.externalSet('s1', 'a', create(ValueSchema, { kind: { case: 'intValue', value: 4n } }));
      // resume fails with Compacted -> cache cleared -> a fresh stream from scratch
      await eventually(() => fake.count('watchVariables') >= 4 && session.peek('a') === 4, 'the restart');
    });
  });

  describe('watch', () => {
    beforeEach(() => setup());

    it('should stream initial values, synced, and changes', async () => {
      await session.register('a', 'integer', 1);
      await session.register('b', 'integer', 1);
      const events: VariableEvent[] = [];
      const ac = new AbortController();
      const done = (async () => {
        for await (const ev of session.watch(['a'], { includeInitial: true, signal: ac.signal })) {
          events.push(ev);
          if (ev.kind === 'synced') {
            await session.set('b', 2);
            await session.set('a', 2);
            await session.delete('a');
          }
          if (ev.kind === 'deleted') ac.abort();
        }
      })();
      await done;
      expect(events.map((e) => [e.kind, e.variable?.name, e.variable?.value])).toEqual([
        ['initial', 'a', 1],
        ['synced', undefined, undefined],
        ['updated', 'a', 2],
        ['deleted', 'a', 2],
      ]);
    });

    it('should resume from the last revision after the stream is cut', async () => {
      await session.register('a', 'integer', 0);
      const seen: number[] = [];
      const it = session.watch(['a'])[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ kind: 'synced' });
      await session.set('a', 1);
      seen.push((await it.next()).value.variable.value);
      fake.cutWatches(unavailable());
      await session.set('a', 2); // happens while the stream is down
      const resumed = await it.next(); // the missed change first, then synced
      expect(resumed.value).toMatchObject({ kind: 'updated' });
      seen.push(resumed.value.variable.value);
      expect((await it.next()).value).toMatchObject({ kind: 'synced' });
      await it.return?.();
      expect(seen).toEqual([1, 2]);
      expect(fake.count('watchVariables')).toBe(2);
    });

    it('should resume after a WatcherOverflow without losing changes', async () => {
      await session.register('a', 'integer', 0);
      const it = session.watch(['a'])[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ kind: 'synced' });
      fake.cutWatches(wireError(Code.ResourceExhausted, ErrorType.WATCHER_OVERFLOW, 'overflow'));
      await session.set('a', 1);
      expect((await it.next()).value).toMatchObject({ kind: 'updated', variable: { value: 1 } });
      await it.return?.();
      expect(fake.count('watchVariables')).toBe(2);
    });

    it('should end with Compacted when the resume point is gone', async () => {
      await session.register('a', 'integer', 0);
      await expect(async () => {
        fake.oldestRevision = 100n;
        for await (const ev of session.watch([], { sinceRevision: 1 })) void ev;
      }).rejects.toMatchObject({ type: 'Compacted', oldestRevision: 100 });
    });
  });
});
