import { createBridgeClient, isBridgeError } from '@unified-bridge/client';
import { FaultProxy, startServer, type StartedServer } from '@unified-bridge/testing';

// FaultProxy in front of a real bridge server: what a client sees when the network misbehaves.
describe('FaultProxy (real bridge server)', () => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function setup(protocol: 'connect' | 'grpc' = 'connect') {
    const proxy = await FaultProxy.start({ target: server.url });
    const direct = createBridgeClient({ baseUrl: server.url });
    const viaProxy = createBridgeClient({ baseUrl: proxy.url, protocol, retry: false });
    const id = `fp-${Math.random().toString(16).slice(2)}`;
    const session = await direct.createSession({ id });
    await session.register('x', 'integer', 0);
    const proxied = await viaProxy.session(id);
    return {
      proxy,
      session,
      proxied,
      async [Symbol.asyncDispose]() {
        await session.close().catch(() => {});
        await viaProxy.close();
        await direct.close();
        await proxy.stop();
      },
    };
  }

  it('should pass calls through unchanged without faults', async () => {
    await using env = await setup();
    expect(await env.proxied.get('x', { fresh: true })).toBe(0);
    expect(env.proxy.stats().downstreamBytes).toBeGreaterThan(0);
  });

  it.each(['connect', 'grpc'] as const)(
    'should surface a watch stream cut mid-way as Unavailable (%s)',
    async (protocol) => {
      await using env = await setup(protocol);
      const it = env.proxied.watch(['x'], { resume: false })[Symbol.asyncIterator]();
      await env.session.set('x', 1);
      const first = await it.next();
      expect(first.done).toBe(false);
      env.proxy.setFault({ type: 'cut-after', bytes: 0, direction: 'downstream' });
      await env.session.set('x', 2);
      const err = await it.next().catch((e: unknown) => e);
      expect(isBridgeError(err, 'Unavailable')).toBe(true);
    },
  );

  it('should surface a reset of every connection as Unavailable', async () => {
    await using env = await setup();
    const it = env.proxied.watch(['x'], { resume: false })[Symbol.asyncIterator]();
    await env.session.set('x', 1);
    await it.next();
    env.proxy.dropConnections();
    const err = await it.next().catch((e: unknown) => e);
    expect(isBridgeError(err, 'Unavailable')).toBe(true);
  });

  it('should turn a blackhole into a deadline and recover after clearing it', async () => {
    await using env = await setup();
    env.proxy.setFault({ type: 'blackhole' });
    const err = await env.proxied.get('x', { fresh: true, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isBridgeError(err, 'DeadlineExceeded')).toBe(true);
    env.proxy.clearFaults();
    env.proxy.dropConnections();
    // A new client (the old one's connection lost bytes in the blackhole and was dropped).
    await using fresh = createBridgeClient({ baseUrl: env.proxy.url });
    expect(await fresh.session(env.session.id).get('x', { fresh: true })).toBe(0);
  });

  it('should still deliver correct results under latency and a bandwidth cap', async () => {
    await using env = await setup();
    env.proxy.setFault([
      { type: 'latency', ms: 20 },
      { type: 'bandwidth', bytesPerSecond: 200_000 },
    ]);
    await env.session.set('x', 42);
    expect(await env.proxied.get('x', { fresh: true })).toBe(42);
  });
});
