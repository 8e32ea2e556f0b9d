import { createRouterTransport } from '@connectrpc/connect';
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
});
