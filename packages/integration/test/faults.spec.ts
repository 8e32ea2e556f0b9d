// Network failure modes with FaultProxy in front of a real `unified-bridge serve` process, over
// gRPC and Connect (seed 004: failure mode testing; seed 000: chaos testing "network failures").
// Covers:
// - a watch stream cut mid-way surfaces as Unavailable (resume off), and a new watch resumed from
//   the last delivered revision gets the change it missed, then live changes;
// - with automatic resume (default) a dropped connection is invisible to the watcher: the changes
//   made while it was down arrive in order, none twice;
// - latency injection: concurrent reads, writes, batches, update() and a watch stay correct;
// - a blackholed connection: the call fails with DeadlineExceeded within its deadline, and the
//   client recovers once the fault is cleared and the dead connection dropped.
import type { Session, VariableEvent } from '@unified-bridge/client';
import { FaultProxy } from '@unified-bridge/testing';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients, type Protocol } from './support/helpers.js';

const bridge = useBridgeServer();
const openClient = useClients(() => bridge.url);

/** A session written directly, and the same session through a FaultProxy (closed after the test). */
async function setup(protocol: Protocol) {
  const proxy = await FaultProxy.start({ target: bridge.url });
  const session = await openClient({ protocol }).createSession({ id: uniqueId('fault') });
  await session.register('x', 'integer', 0);
  const proxiedClient = openClient({ baseUrl: proxy.url, protocol, retry: { maxAttempts: 5, initialDelayMs: 20 } });
  return {
    proxy,
    session,
    proxied: proxiedClient.session(session.id),
    async [Symbol.asyncDispose]() {
      await session.close().catch(() => undefined);
      await proxy.stop();
    },
  };
}

/** Next event of `it` that is not a `synced` marker. */
async function nextChange(it: AsyncIterator<VariableEvent>): Promise<VariableEvent> {
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error('the watch ended');
    if (r.value.kind !== 'synced') return r.value;
  }
}

/** Waits for the `synced` event: from then on the watch is live on the server. */
async function untilSynced(it: AsyncIterator<VariableEvent>): Promise<number> {
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error('the watch ended before it was synced');
    if (r.value.kind === 'synced') return r.value.revision;
  }
}

describe.each(PROTOCOLS)('network faults over %s', (protocol) => {
  it('should surface a cut watch stream as Unavailable, and resume from the last revision', async () => {
    await using env = await setup(protocol);
    const watch = env.proxied.watch(['x'], { resume: false })[Symbol.asyncIterator]();
    await untilSynced(watch);
    await env.session.set('x', 1);
    const first = await nextChange(watch);
    expect(first).toMatchObject({ kind: 'updated', variable: { value: 1 } });

    env.proxy.setFault({ type: 'cut-after', bytes: 0, direction: 'downstream' });
    await env.session.set('x', 2); // its event hits the cut
    await bridgeError(nextChange(watch), 'Unavailable');

    env.proxy.clearFaults();
    const resumed = env.proxied.watch(['x'], { sinceRevision: first.revision })[Symbol.asyncIterator]();
    try {
      const missed = await nextChange(resumed);
      expect(missed).toMatchObject({ kind: 'updated', variable: { value: 2 } });
      expect(missed.revision).toBeGreaterThan(first.revision);
      await env.session.set('x', 3);
      expect(await nextChange(resumed)).toMatchObject({ kind: 'updated', variable: { value: 3 } });
    } finally {
      await resumed.return?.();
    }
  });

  it('should resume a watch by itself after the connection dropped, losing and repeating nothing', async () => {
    await using env = await setup(protocol);
    const watch = env.proxied.watch(['x'])[Symbol.asyncIterator]();
    try {
      await untilSynced(watch);
      await env.session.set('x', 1);
      expect(await nextChange(watch)).toMatchObject({ variable: { value: 1 } });

      env.proxy.dropConnections();
      await env.session.set('x', 2);
      await env.session.set('x', 3);
      const values: unknown[] = [];
      while (values.length < 2) values.push((await nextChange(watch)).variable?.value);
      expect(values).toEqual([2, 3]);
      await env.session.set('x', 4);
      expect(await nextChange(watch)).toMatchObject({ variable: { value: 4 } });
      expect(env.proxy.stats().acceptedConnections).toBeGreaterThanOrEqual(2);
    } finally {
      await watch.return?.();
    }
  });

  it('should stay correct under injected latency', async () => {
    await using env = await setup(protocol);
    env.proxy.setFault({ type: 'latency', ms: 30 });
    const s: Session = env.proxied;
    const watch = s.watch(['counter'])[Symbol.asyncIterator]();
    try {
      await s.register('counter', 'integer', 0);
      await untilSynced(watch);
      await s.register('a', 'string', 'a0');
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 3; i++) await s.update<number>('counter', (n) => n + 1);
        }),
      );
      expect(await s.get('counter', { fresh: true })).toBe(12);
      const [a, b] = await s.setMany({ a: 'a1', x: 5 });
      expect(a?.ok && b?.ok).toBe(true);
      expect(Object.fromEntries(await s.getMany(['a', 'x', 'missing']))).toEqual({ a: 'a1', x: 5 });
      // The watch saw every counter change, in order.
      const seen: unknown[] = [];
      while (seen.length < 12) seen.push((await nextChange(watch)).variable?.value);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(env.proxy.faults).toEqual([{ type: 'latency', ms: 30 }]);
    } finally {
      await watch.return?.();
    }
  });

  it('should fail a blackholed call with DeadlineExceeded and recover when the fault is gone', async () => {
    await using env = await setup(protocol);
    expect(await env.proxied.get('x', { fresh: true })).toBe(0);
    env.proxy.setFault({ type: 'blackhole' });
    await bridgeError(env.proxied.get('x', { fresh: true, timeoutMs: 500 }), 'DeadlineExceeded');
    env.proxy.clearFaults();
    env.proxy.dropConnections(); // the blackholed connection lost bytes: drop it
    await env.session.set('x', 9);
    expect(await env.proxied.get('x', { fresh: true })).toBe(9);
  });
});
