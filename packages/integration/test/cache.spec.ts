// The client's read cache against a real `unified-bridge serve` process, over gRPC and Connect
// (seed 000: TestCaching, TestConcurrency.test_concurrent_reads).
// Covers:
// - hit/miss statistics, proven against the RPCs actually sent (an interceptor counts them);
// - write-through: an own update is served from the cache at once, without a round trip;
// - "ttl" mode: another client's write is not seen while the entry is fresh, clear() (all, and
//   one session) makes the next read go to the server;
// - TTL expiry: with a short TTL (setTtl), the entry expires and the next read fetches the new
//   value (waits for the expiry condition via peek(), never a fixed sleep; no timing asserted);
// - 100 concurrent reads all return the same value (one coalesced RPC with the cache, 100 RPCs
//   without it);
// - "watch" mode coherence between two clients: another client's update, creation and delete
//   reach the cache through the watch stream (peek() sees them without any read RPC).
import type { VariableRecord } from '@unified-bridge/client';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { PROTOCOLS, rpcCounter, uniqueId, useClients, waitFor } from './support/helpers.js';

const bridge = useBridgeServer();
const openClient = useClients(() => bridge.url);

/** A TTL no test outlives: exact hit counts must not depend on how loaded the machine is. */
const LONG_TTL = { mode: 'ttl', ttlMs: 600_000 } as const;

describe.each(PROTOCOLS)('read cache over %s', (protocol) => {
  it('should count hits and misses, a hit sending no RPC', async () => {
    const rpcs = rpcCounter();
    const client = openClient({ protocol, cache: LONG_TTL, interceptors: [rpcs.interceptor] });
    await using session = await client.createSession({ id: uniqueId('cache-stats') });
    await session.register('cached_var', 'string', 'test value');
    client.cache.clear();
    const before = client.cache.stats();

    expect(await session.get('cached_var')).toBe('test value'); // miss
    for (let i = 0; i < 10; i++) expect(await session.get('cached_var')).toBe('test value'); // hits

    const after = client.cache.stats();
    expect(after.misses - before.misses).toBe(1);
    expect(after.hits - before.hits).toBe(10);
    expect(after.hitRate).toBeGreaterThan(0);
    expect(after.size).toBeGreaterThanOrEqual(1);
    expect(rpcs.count('GetVariable')).toBe(1);
  });

  it('should serve an own update from the cache at once (write-through)', async () => {
    const rpcs = rpcCounter();
    const client = openClient({ protocol, cache: LONG_TTL, interceptors: [rpcs.interceptor] });
    await using session = await client.createSession({ id: uniqueId('cache-own') });
    await session.register('test', 'integer', 1);
    expect(await session.get('test')).toBe(1);
    await session.set('test', 2);
    expect(session.peek('test')).toBe(2);
    expect(await session.get('test')).toBe(2);
    expect(rpcs.count('GetVariable')).toBe(0); // register and set replies filled the cache
    expect(rpcs.count('UpdateVariable')).toBe(1);
  });

  it('should keep serving a fresh entry in ttl mode until it is cleared', async () => {
    const reader = openClient({ protocol, cache: LONG_TTL });
    const writer = openClient({ protocol });
    await using session = await reader.createSession({ id: uniqueId('cache-clear') });
    await session.register('x', 'integer', 1);
    await session.register('y', 'integer', 1);
    expect(await session.get('x')).toBe(1);
    expect(await session.get('y')).toBe(1);

    await writer.session(session.id).setMany({ x: 2, y: 2 });
    // The reader has not seen the other client's write: its entries are within their TTL.
    expect(await session.get('x')).toBe(1);

    reader.cache.clear(session.id);
    expect(session.peek('x')).toBeUndefined();
    expect(await session.get('x')).toBe(2);

    reader.cache.clear();
    expect(reader.cache.stats().size).toBe(0);
    expect(await session.get('y')).toBe(2);
  });

  it('should fetch again after the TTL expired', async () => {
    const rpcs = rpcCounter();
    const reader = openClient({ protocol, interceptors: [rpcs.interceptor] });
    const writer = openClient({ protocol });
    reader.cache.setTtl(250);
    await using session = await reader.createSession({ id: uniqueId('cache-ttl') });
    await session.register('ttl_test', 'integer', 42);
    expect(await session.get('ttl_test')).toBe(42);
    await writer.session(session.id).set('ttl_test', 43);

    // TTL expiry is the behaviour under test: wait until the entry is no longer served.
    await waitFor('the cache entry to expire', () => session.peek('ttl_test') === undefined);
    const misses = reader.cache.stats().misses;
    const reads = rpcs.count('GetVariable');
    expect(await session.get('ttl_test')).toBe(43);
    expect(reader.cache.stats().misses).toBe(misses + 1);
    expect(rpcs.count('GetVariable')).toBe(reads + 1);
  });

  it('should answer 100 concurrent reads with the same value (one coalesced RPC)', async () => {
    const rpcs = rpcCounter();
    const client = openClient({ protocol, cache: LONG_TTL, interceptors: [rpcs.interceptor] });
    await using session = await client.createSession({ id: uniqueId('cache-conc') });
    await session.register('shared', 'integer', 7);
    client.cache.clear();
    const results = await Promise.all(Array.from({ length: 100 }, () => session.get('shared')));
    expect(results).toHaveLength(100);
    expect(new Set(results)).toEqual(new Set([7]));
    expect(rpcs.count('GetVariable')).toBe(1);
  });

  it('should answer 100 concurrent server reads with the same value (cache off)', async () => {
    const rpcs = rpcCounter();
    const client = openClient({ protocol, cache: false, interceptors: [rpcs.interceptor] });
    await using session = await client.createSession({ id: uniqueId('nocache-conc') });
    await session.register('shared', 'integer', 0);
    const results = await Promise.all(Array.from({ length: 100 }, () => session.get('shared')));
    expect(new Set(results)).toEqual(new Set([0]));
    expect(rpcs.count('GetVariable')).toBe(100);
  });

  it('should keep a watch-mode cache coherent with another client’s writes', async () => {
    const rpcs = rpcCounter();
    const reader = openClient({ protocol, cache: { mode: 'watch' }, interceptors: [rpcs.interceptor] });
    const writer = openClient({ protocol });
    expect(reader.cache.mode).toBe('watch');
    await using session = await writer.createSession({ id: uniqueId('cache-watch') });
    await session.register('x', 'integer', 1);
    const watched = reader.session(session.id);

    expect(await watched.get('x')).toBe(1);
    // The coherence stream is live once a read is served from the cache.
    await waitFor('the watch stream to be live', () => watched.peek('x') === 1);
    const reads = rpcs.count('GetVariable');

    await session.set('x', 2);
    await waitFor('the update to reach the cache', () => watched.peek('x') === 2);
    expect(await watched.get('x')).toBe(2);

    await session.register('y', 'string', 'new');
    await waitFor('the creation to reach the cache', () => watched.peek('y') === 'new');

    await session.delete('x');
    await waitFor('the delete to reach the cache', () => watched.peek('x') === undefined);
    // Every change above reached the reader through its watch stream: no read RPC was needed.
    expect(rpcs.count('GetVariable')).toBe(reads);
    expect(await watched.has('x')).toBe(false);
    const record: VariableRecord = await watched.getVariable('y');
    expect(record).toMatchObject({ name: 'y', value: 'new', version: 0 });
  });
});
