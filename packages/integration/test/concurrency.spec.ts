// Concurrent writers against a real `unified-bridge serve` process, over gRPC and Connect
// (seed 000: TestConcurrency.test_concurrent_updates).
// Covers:
// - plain read-modify-write (get fresh + set) by 5 workers (one client each) x 10 shows the lost
//   update race: every write is applied (version 50) but the final value is <= 50 (logged; it may
//   equal 50 on a lucky run, so it is not asserted to be lower);
// - session.update() by the same 5 x 10 workers is exact: final value 50, version 50;
// - optimistic concurrency: a stale expectedVersion fails with VersionConflict (ABORTED) carrying
//   the current version, and changes nothing.
import { Code } from '@connectrpc/connect';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients } from './support/helpers.js';

const bridge = useBridgeServer();
const openClient = useClients(() => bridge.url);

const WORKERS = 5;
const ROUNDS = 10;

describe.each(PROTOCOLS)('concurrent updates over %s', (protocol) => {
  async function setup() {
    const owner = openClient({ protocol });
    const session = await owner.createSession({ id: uniqueId('conc') });
    await session.register('counter', 'integer', 0);
    const workers = Array.from({ length: WORKERS }, () => openClient({ protocol }).session(session.id));
    return { session, workers };
  }

  it('should lose updates with a plain read-modify-write (the race the seed demonstrates)', async () => {
    const { session, workers } = await setup();
    await using _session = session;
    await Promise.all(
      workers.map(async (w) => {
        for (let i = 0; i < ROUNDS; i++) {
          const current = await w.get<number>('counter', { fresh: true });
          await w.set('counter', current + 1);
        }
      }),
    );
    const final = await session.getVariable<number>('counter', { fresh: true });
    console.log(
      `[${protocol}] plain read-modify-write by ${WORKERS} x ${ROUNDS}: final counter ${final.value} (at most ${WORKERS * ROUNDS})`,
    );
    expect(final.version).toBe(WORKERS * ROUNDS); // every write was applied...
    expect(final.value).toBeGreaterThanOrEqual(1);
    expect(final.value).toBeLessThanOrEqual(WORKERS * ROUNDS); // ...but some may have been lost
  });

  it('should count exactly with update() (retried on version conflicts)', async () => {
    const { session, workers } = await setup();
    await using _session = session;
    await Promise.all(
      workers.map(async (w) => {
        for (let i = 0; i < ROUNDS; i++) await w.update<number>('counter', (n) => n + 1);
      }),
    );
    const final = await session.getVariable<number>('counter', { fresh: true });
    expect(final.value).toBe(WORKERS * ROUNDS);
    expect(final.version).toBe(WORKERS * ROUNDS);
  });

  it('should reject a stale expectedVersion with VersionConflict and the current version', async () => {
    const { session, workers } = await setup();
    await using _session = session;
    const [a, b] = workers;
    if (a === undefined || b === undefined) throw new Error('two workers expected');
    await a.set('counter', 1, { expectedVersion: 0 });
    const err = await bridgeError(b.set('counter', 2, { expectedVersion: 0 }), 'VersionConflict');
    expect(err.code).toBe(Code.Aborted);
    expect(err.currentVersion).toBe(1);
    expect(await session.getVariable('counter', { fresh: true })).toMatchObject({ value: 1, version: 1 });
  });
});
