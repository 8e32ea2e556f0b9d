// Every RPC and every error mapping over real sockets, for each protocol,
// encoding and HTTP version the one port serves.
import { startBridgeServer } from '../src/index.js';
import type { StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { FakeClock, TRANSPORT_NAMES, transportsFor } from './helpers.js';
import { exerciseEveryRpc, scenarioStore } from './scenario.js';

describe('one port, every protocol', () => {
  const clock = new FakeClock();
  const store = scenarioStore(clock);
  let server: StartedBridgeServer;
  let transports: ReturnType<typeof transportsFor>;

  beforeAll(async () => {
    server = await startBridgeServer({ store, logger: silentLogger });
    transports = transportsFor(server.url);
  });
  afterAll(async () => {
    transports.close();
    await server.stop();
    await store.close();
  });

  it.each(TRANSPORT_NAMES.map((name, i) => [name, i] as const))(
    'should serve every RPC and error mapping over %s',
    async (name, i) => {
      const c = transports.cases[i]!;
      expect(c.name).toBe(name);
      await exerciseEveryRpc(c.transport, `p${i}`, clock);
    },
  );

  it('should answer the curl acceptance request (Connect JSON, HTTP/1.1, no protocol header)', async () => {
    const res = await fetch(`${server.url}/unified_bridge.v1.SessionService/CreateSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: { id: string } };
    expect(body.session.id).toMatch(/.+/);
  });
});
