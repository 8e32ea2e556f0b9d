import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { ErrorDetailSchema, Health } from '@unified-bridge/proto';
import { FakeClock } from '../test/helpers.js';
import { exerciseEveryRpc, scenarioStore } from '../test/scenario.js';
import { createBridgeRoutes } from './routes.js';
import { silentLogger } from './logger.js';

describe('createBridgeRoutes through createRouterTransport (no socket)', () => {
  it('should serve every SessionService and VariableService RPC and map every store error', async () => {
    const clock = new FakeClock();
    const store = scenarioStore(clock);
    const routes = createBridgeRoutes({ store, logger: silentLogger });
    await exerciseEveryRpc(createRouterTransport(routes), 'unit', clock);
    await routes.shutdown({ graceMs: 0 });
    await store.close();
  });

  it('should answer a health check of an unknown service with NOT_FOUND and no ErrorDetail, as grpc.health.v1 does', async () => {
    const routes = createBridgeRoutes({ logger: silentLogger });
    const health = createClient(Health, createRouterTransport(routes));
    const err = await health.check({ service: 'x.Y' }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).findDetails(ErrorDetailSchema)).toEqual([]);
    await routes.shutdown({ graceMs: 0 });
  });
});
