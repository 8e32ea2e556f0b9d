import { createClient, createRouterTransport } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as S } from '@unified-bridge/proto';
import { BridgeHealth, createHealthServiceImpl } from './health-service.js';

describe('grpc.health.v1 service', () => {
  it('should report "" and each service, NOT_FOUND for unknown ones, and stream changes', async () => {
    const health = new BridgeHealth(['a.B']);
    const streams = new AbortController();
    const client = createClient(
      Health,
      createRouterTransport((r) => r.service(Health, createHealthServiceImpl(health, streams.signal))),
    );
    expect((await client.check({ service: '' })).status).toBe(S.SERVING);
    expect((await client.check({ service: 'a.B' })).status).toBe(S.SERVING);
    await expect(client.check({ service: 'x.Y' })).rejects.toMatchObject({ code: 5 });

    const it = client.watch({ service: 'a.B' })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ status: S.SERVING });
    health.setServing(false);
    expect((await it.next()).value).toMatchObject({ status: S.NOT_SERVING });
    const unknown = client.watch({ service: 'x.Y' })[Symbol.asyncIterator]();
    expect((await unknown.next()).value).toMatchObject({ status: S.SERVICE_UNKNOWN });
    streams.abort(new Error('shutdown'));
    await expect(it.next()).rejects.toBeInstanceOf(Error);
    await expect(unknown.next()).rejects.toBeInstanceOf(Error);
  });
});
