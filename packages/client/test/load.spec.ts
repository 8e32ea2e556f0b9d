// Many calls in flight at once and messages near the server's 10 MiB limit,
// against a real server (startBridgeServer on port 0, in-process, real
// sockets): no listener-leak warnings, no HTTP/2 ENHANCE_YOUR_CALM.
import { startBridgeServer, type StartedBridgeServer } from '@unified-bridge/server';
import { createBridgeClient, type BridgeClient, type BridgeClientOptions, type BridgeProtocol } from '../src/index.js';
import { collectWarnings } from './support/warnings.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const CALLS = 50;

describe('client under load against a real server', () => {
  let server: StartedBridgeServer;
  const clients: BridgeClient[] = [];
  let collected: ReturnType<typeof collectWarnings> | undefined;

  function client(opts: Partial<BridgeClientOptions> = {}): BridgeClient {
    const c = createBridgeClient({ baseUrl: server.url, protocol: 'grpc', ...opts });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    server = await startBridgeServer({ port: 0, logger: silent }); // default maxMessageBytes: 10 MiB
  });

  beforeEach(() => {
    collected = collectWarnings();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    collected?.stop();
  });

  afterAll(async () => {
    await server.stop();
  });

  it.each<[BridgeProtocol, '1.1' | '2']>([
    ['grpc', '2'],
    ['connect', '2'],
    ['connect', '1.1'],
  ])(
    `should run ${CALLS} concurrent calls over %s (HTTP/%s) without MaxListenersExceededWarning in client or server`,
    async (protocol, httpVersion) => {
      const c = client({ protocol, httpVersion, cache: false });
      const workerClient = client({ protocol, httpVersion });
      const s = await c.createSession();
      const names = Array.from({ length: CALLS }, (_, i) => `v${i}`);
      await Promise.all(names.map((n, i) => s.register(n, 'integer', i)));
      const values = await Promise.all(names.map((n) => s.get(n)));
      expect(values).toEqual(names.map((_, i) => i));
      const infos = await Promise.all(names.map(() => s.info()));
      expect(infos.every((i) => i.variableCount === CALLS)).toBe(true);
      // Cold cached reads and calls sharing one long-lived signal of the caller.
      const app = new AbortController();
      const reader = client({ protocol, httpVersion }).session(s.id);
      const cached = await Promise.all(names.map((n) => reader.get(n, { signal: app.signal })));
      expect(cached).toEqual(values);
      await Promise.all(names.map(() => reader.info({ signal: app.signal })));
      // Tool calls through a worker: server broker, client worker reports and heartbeats.
      const worker = workerClient.serveTools(s.id, { double: ({ n }) => (n as number) * 2 }, { maxConcurrency: CALLS });
      await worker.ready;
      const doubled = await Promise.all(names.map((_, i) => s.tools.call('double', { n: i })));
      expect(doubled).toEqual(names.map((_, i) => i * 2));
      await worker.stop();
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(collected!.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
        [],
      );
    },
  );

  it('should set and get a 9 MB string over gRPC (HTTP/2), also with two such messages in flight', async () => {
    const c = client({ protocol: 'grpc', cache: false, retry: false });
    const s = await c.createSession();
    await s.register('big', 'string', '');
    const big = 'x'.repeat(9 * 1024 * 1024);
    await s.set('big', big);
    const back = await s.get<string>('big');
    expect(back.length).toBe(big.length);
    expect(back === big).toBe(true); // no diff of 9 MB strings on failure
    // Two 9 MB requests at once on one connection: beyond Node's default
    // maxSessionMemory (10 MB), which refused streams with ENHANCE_YOUR_CALM.
    const other = 'y'.repeat(9 * 1024 * 1024);
    const outcomes = await Promise.allSettled([s.set('big', other), s.set('big', big), s.info(), s.get('big')]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : String((o.reason as Error).message)))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect((await s.info()).variableCount).toBe(1);
  });

  it('should check the http2.maxSessionMemoryMb option', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '64' as unknown as number]) {
      expect(() =>
        createBridgeClient({ baseUrl: server.url, protocol: 'grpc', http2: { maxSessionMemoryMb: bad } }),
      ).toThrow(/http2\.maxSessionMemoryMb must be a positive integer/);
    }
    const c = client({ protocol: 'grpc', http2: { maxSessionMemoryMb: 256 } });
    expect(c.closed).toBe(false);
  });
});
