// The /web entry (connect-web over fetch) against a real server, using the
// fetch of Node.js (HTTP/1.1).
import { startBridgeServer, type StartedBridgeServer } from '@unified-bridge/server';
import { createBridgeClient } from '../src/web.js';

describe('@unified-bridge/client/web', () => {
  let server: StartedBridgeServer;

  beforeAll(async () => {
    const silent = { error() {}, warn() {}, info() {}, debug() {} };
    server = await startBridgeServer({ port: 0, logger: silent });
  });

  afterAll(() => server.stop());

  it.each(['connect', 'grpc-web'] as const)('should work over %s with fetch', async (protocol) => {
    await using client = createBridgeClient({ baseUrl: server.url, protocol });
    await using session = await client.createSession();
    await session.register('x', 'integer', 1);
    expect(await session.get('x', { fresh: true })).toBe(1);
    const it = session.watch(['x'])[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ kind: 'synced' });
    await session.update<number>('x', (n) => n + 1);
    expect((await it.next()).value).toMatchObject({ kind: 'updated', variable: { value: 2 } });
    await it.return?.();
    await expect(session.get('nope')).rejects.toMatchObject({ type: 'VariableNotFound' });
  });

  it('should refuse plain gRPC, which browsers cannot speak', () => {
    expect(() => createBridgeClient({ baseUrl: server.url, protocol: 'grpc' as never })).toThrow(/protocol/);
  });
});
