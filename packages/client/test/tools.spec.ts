// Integration tests of session.tools and client.serveTools against a real
// server (startBridgeServer on port 0, in-process, real sockets): host tools
// registered by the embedding service, and worker tools served by a second
// client in the same process, over gRPC (HTTP/2) and Connect (HTTP/1.1).
import {
  ToolFailure as HostToolFailure,
  startBridgeServer,
  toolError as hostToolError,
  type HostToolDefinition,
  type StartedBridgeServer,
} from '@unified-bridge/server';
import {
  createBridgeClient,
  isBridgeError,
  isToolFailure,
  ToolFailure,
  toolError,
  type BridgeClient,
  type BridgeClientOptions,
  type BridgeError,
  type BridgeProtocol,
} from '../src/index.js';
import { eventually } from './support/eventually.js';
import { rejection as failure } from './support/rejection.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function signalled<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('toolError', () => {
  it('should make the same ToolFailure as the server does, for worker and host tools alike', () => {
    expect(ToolFailure).toBe(HostToolFailure);
    const f = toolError('Quota', 'used up', { left: '0' });
    expect(f).toBeInstanceOf(HostToolFailure);
    expect(isToolFailure(f)).toBe(true);
    expect(isToolFailure(hostToolError('Quota', 'used up'))).toBe(true);
    expect([f.toolErrorType, f.message, f.details]).toEqual(['Quota', 'used up', { left: '0' }]);
    expect(() => toolError('', 'no type')).toThrow(TypeError);
  });
});

describe('tools against a real server', () => {
  let server: StartedBridgeServer;
  const clients: BridgeClient[] = [];
  let seq = 0;
  const newId = (): string => `tools-${process.pid}-${++seq}`;

  function client(opts: Partial<BridgeClientOptions> = {}): BridgeClient {
    const c = createBridgeClient({ baseUrl: server.url, protocol: 'grpc', retry: { initialDelayMs: 5 }, ...opts });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    server = await startBridgeServer({ port: 0, logger: silent });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  describe.each<[BridgeProtocol, '1.1' | '2']>([
    ['grpc', '2'],
    ['connect', '1.1'],
  ])('a worker over %s (HTTP/%s)', (protocol, httpVersion) => {
    it('should serve unary and streaming tools to another client, with errors and session access', async () => {
      const caller = client({ protocol, httpVersion });
      const host = client({ protocol, httpVersion });
      const session = await caller.createSession({ id: newId() });
      await session.register('calls', 'integer', 0);
      const worker = host.serveTools(session, [
        {
          name: 'add',
          description: 'Adds two integers',
          parameters: {
            type: 'object',
            properties: { a: { type: 'integer' }, b: { type: 'integer' } },
            required: ['a', 'b'],
          },
          handler: async ({ a, b }, ctx) => {
            await ctx.session.update<number>('calls', (n) => n + 1);
            if ((a as number) < 0)
              throw toolError('ValidationError', 'Invalid input', { field: 'a', reason: 'negative' });
            return (a as number) + (b as number);
          },
        },
        {
          name: 'count',
          async *handler({ n }) {
            for (let i = 0; i < (n as number); i++) yield i % 2 === 0 ? { i } : 2n ** 60n + BigInt(i);
          },
        },
        {
          name: 'crash',
          handler: () => {
            throw new RangeError('out of range');
          },
        },
      ]);
      await worker.ready;
      expect(worker.workerId).not.toBe('');

      const listed = await session.tools.list();
      expect(listed.map((t) => t.name)).toEqual(expect.arrayContaining(['add', 'count', 'crash']));
      const add = listed.find((t) => t.name === 'add');
      expect(add).toMatchObject({ description: 'Adds two integers', streaming: false, owner: worker.workerId });
      expect(listed.find((t) => t.name === 'count')?.streaming).toBe(true);

      const r = await session.tools.callWithMetrics('add', { a: 5, b: 37 });
      expect(r.result).toBe(42);
      expect(r.metrics.executedBy).toBe(worker.workerId);
      expect(await session.get('calls', { fresh: true })).toBe(1);

      const e1 = await failure(session.tools.call('add', { a: -5, b: 10 }));
      expect(e1).toMatchObject({
        type: 'ToolError',
        toolErrorType: 'ValidationError',
        toolName: 'add',
        details: { field: 'a', reason: 'negative' },
      });
      expect(e1.message).toContain('Invalid input');
      const e2 = await failure(session.tools.call('add', { a: 'x', b: 1 }));
      expect(e2).toMatchObject({ type: 'ValidationError', toolName: 'add' });
      const e3 = await failure(session.tools.call('crash'));
      expect(e3).toMatchObject({ type: 'ToolError', toolErrorType: 'RangeError', message: 'out of range' });

      const stream = session.tools.stream('count', { n: 5 });
      const got: unknown[] = [];
      for await (const c of stream) got.push(c);
      expect(got).toEqual([{ i: 0 }, 2n ** 60n + 1n, { i: 2 }, 2n ** 60n + 3n, { i: 4 }]);
      expect(stream.totalChunks).toBe(5);

      const many = await session.tools.callMany([
        { name: 'add', args: { a: 1, b: 1 } },
        { name: 'nope' },
        { name: 'add', args: { a: -1, b: 1 } },
      ]);
      expect(many.map((m) => (m.ok ? m.value : m.error.type))).toEqual([2, 'ToolNotFound', 'ToolError']);

      await worker.stop();
      // The server notices the closed stream asynchronously; meanwhile a call may still fail with Unavailable.
      await eventually(
        async () =>
          isBridgeError(await session.tools.call('add', { a: 1, b: 2 }).catch((e: unknown) => e), 'ToolNotFound'),
        'the tools to disappear',
      );
    });

    it('should carry cancellation to the worker when the caller breaks out of a stream', async () => {
      const caller = client({ protocol, httpVersion });
      const host = client({ protocol, httpVersion });
      const session = await caller.createSession({ id: newId() });
      const aborted = signalled();
      const worker = host.serveTools(session, {
        ticks: {
          async *handler(_args, ctx) {
            ctx.signal.addEventListener('abort', () => aborted.resolve());
            for (let i = 0; !ctx.signal.aborted; i++) {
              yield i;
              await new Promise((r) => setTimeout(r, 2));
            }
          },
        },
      });
      await worker.ready;
      const got: number[] = [];
      for await (const n of session.tools.stream<number>('ticks')) {
        got.push(n);
        if (n === 3) break;
      }
      expect(got).toEqual([0, 1, 2, 3]);
      await aborted.promise;
      await eventually(() => worker.activeCalls === 0, 'the cancelled call to end');
    });

    it('should serve global tools to every session', async () => {
      const caller = client({ protocol, httpVersion });
      const host = client({ protocol, httpVersion });
      const name = `echo_${seq}`;
      const worker = host.serveTools(null, { [name]: ({ v }, ctx) => `${String(v)}@${ctx.sessionId}` });
      await worker.ready;
      const s1 = await caller.createSession({ id: newId() });
      const s2 = await caller.createSession({ id: newId() });
      expect(await s1.tools.call(name, { v: 1 })).toBe(`1@${s1.id}`);
      expect(await s2.tools.proxy(name)({ v: 2 })).toBe(`2@${s2.id}`);
      expect((await s2.tools.proxy(name).spec).global).toBe(true);
    });

    it('should answer calls made once worker.stop() resolved with ToolNotFound, failing the one in flight', async () => {
      const caller = client({ protocol, httpVersion });
      const host = client({ protocol, httpVersion });
      const session = await caller.createSession({ id: newId() });
      const started = signalled();
      const worker = host.serveTools(session.id, {
        hold: (_args, ctx) => {
          started.resolve();
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted')));
        },
        quick: () => 'ok',
      });
      await worker.ready;
      expect(await session.tools.call('quick')).toBe('ok');
      const inFlight = failure(session.tools.call('hold'));
      await started.promise;
      await worker.stop();
      // The server confirmed the worker is gone: no call is routed to it any more.
      for (const name of ['quick', 'hold']) {
        expect(await failure(session.tools.call(name))).toMatchObject({ type: 'ToolNotFound', toolName: name });
      }
      expect(await inFlight).toMatchObject({ type: 'Unavailable', details: { worker: worker.workerId } });
      // The store forgets the tools right after (no listing shows them for long).
      await eventually(async () => (await session.tools.list({ fresh: true })).length === 0, 'an empty tool list');
    });
  });

  describe('host tools', () => {
    let hostServer: StartedBridgeServer;
    let cancelled: { promise: Promise<void>; resolve: (v: void) => void };

    const hostTools: HostToolDefinition[] = [
      {
        name: 'add',
        description: 'Adds two integers',
        parameters: {
          type: 'object',
          properties: { a: { type: 'integer' }, b: { type: 'integer' } },
          required: ['a', 'b'],
        },
        handler: ({ a, b }) => {
          if ((a as number) < 0) throw hostToolError('ValidationError', 'Invalid input', { field: 'a' });
          return (a as number) + (b as number);
        },
      },
      {
        name: 'count',
        async *handler({ n }) {
          for (let i = 0; i < (n as number); i++) yield i;
        },
      },
      {
        name: 'endless',
        async *handler(_args, ctx) {
          ctx.signal.addEventListener('abort', () => cancelled.resolve());
          for (let i = 0; !ctx.signal.aborted; i++) {
            yield i;
            await new Promise((r) => setTimeout(r, 2));
          }
        },
      },
      { name: 'big', handler: () => 2n ** 62n },
    ];

    beforeAll(async () => {
      hostServer = await startBridgeServer({
        port: 0,
        logger: silent,
        tools: hostTools,
        rateLimit: { callsPerSecond: 20, burst: 30 },
      });
    });

    afterAll(async () => {
      await hostServer.stop();
    });

    beforeEach(() => {
      cancelled = signalled();
    });

    describe.each<[BridgeProtocol, '1.1' | '2']>([
      ['grpc', '2'],
      ['connect', '1.1'],
    ])('over %s (HTTP/%s)', (protocol, httpVersion) => {
      it('should list, call, stream, batch and proxy host tools, mapping their errors', async () => {
        const c = client({ baseUrl: hostServer.url, protocol, httpVersion });
        const session = await c.createSession({ id: newId() });
        const listed = await session.tools.list();
        expect(listed.map((t) => t.name)).toEqual(['add', 'big', 'count', 'endless']);
        expect(listed[0]).toMatchObject({ owner: 'host', global: true, streaming: false });

        const r = await session.tools.callWithMetrics('add', { a: 5, b: 37 });
        expect(r).toMatchObject({ result: 42, metrics: { executedBy: 'host' } });
        expect(await session.tools.call('big')).toBe(2n ** 62n);

        const e1 = await failure(session.tools.call('add', { a: -5, b: 10 }));
        expect(e1).toMatchObject({
          type: 'ToolError',
          toolErrorType: 'ValidationError',
          toolName: 'add',
          details: { field: 'a' },
        });
        expect(e1.message).toContain('Invalid input');
        const e2 = await failure(session.tools.call('add', { a: 1.5, b: 1 }));
        expect(e2).toMatchObject({ type: 'ValidationError', toolName: 'add' });
        expect(e2.fieldViolations.length).toBeGreaterThan(0);
        const e3 = await failure(session.tools.call('nope'));
        expect(e3).toMatchObject({ type: 'ToolNotFound', toolName: 'nope' });

        const stream = session.tools.stream<number>('count', { n: 4 });
        const got: number[] = [];
        for await (const n of stream) got.push(n);
        expect(got).toEqual([0, 1, 2, 3]);
        expect(stream.totalChunks).toBe(4);
        expect(stream.metrics?.executedBy).toBe('host');

        const many = await session.tools.callMany(
          [
            { name: 'add', args: { a: 1, b: 2 } },
            { name: 'nope' },
            { name: 'add', args: { a: -1, b: 2 } },
            { name: 'big' },
          ],
          { maxConcurrency: 2 },
        );
        expect(many.map((m) => (m.ok ? m.value : `${m.error.type}:${m.error.toolName}`))).toEqual([
          3,
          'ToolNotFound:nope',
          'ToolError:add',
          2n ** 62n,
        ]);

        const add = session.tools.proxy<number>('add');
        expect(await add({ a: 20, b: 22 })).toBe(42);
        expect((await add.spec).description).toBe('Adds two integers');
        const chunks: unknown[] = [];
        for await (const x of session.tools.proxy('count').stream({ n: 2 })) chunks.push(x);
        expect(chunks).toEqual([0, 1]);
      });

      it('should cancel a host tool when the consumer breaks out of its stream', async () => {
        const c = client({ baseUrl: hostServer.url, protocol, httpVersion });
        const session = await c.createSession({ id: newId() });
        const got: number[] = [];
        for await (const n of session.tools.stream<number>('endless')) {
          got.push(n);
          if (n === 2) break;
        }
        expect(got).toEqual([0, 1, 2]);
        await cancelled.promise; // the tool's signal was aborted on the server
      });
    });

    it('should retry a rate-limited call after the retry delay the server asked for', async () => {
      const limited = await startBridgeServer({
        port: 0,
        logger: silent,
        tools: hostTools,
        rateLimit: { callsPerSecond: 0.5, burst: 1 }, // one token per 2 s: the second call cannot get one on a slow machine
      });
      try {
        const c = client({ baseUrl: limited.url });
        const session = await c.createSession({ id: newId() });
        await session.tools.call('big'); // uses the only token
        const first = await failure(session.tools.call('big'));
        expect(first).toMatchObject({ type: 'RateLimited', toolName: 'big' });
        expect(first.retryDelayMs).toBeGreaterThan(0);
        const waits: number[] = [];
        const result = await session.tools.callWithRetry('big', undefined, {
          retries: 5,
          sleep: (ms) => {
            waits.push(ms);
            return new Promise((r) => setTimeout(r, ms));
          },
        });
        expect(result).toBe(2n ** 62n);
        expect(waits.length).toBeGreaterThanOrEqual(1);
        expect(waits[0]).toBeGreaterThan(0);
      } finally {
        await limited.stop();
      }
    });
  });

  it('should stop a worker for good when its session does not exist or its tool specs are invalid', async () => {
    const host = client();
    const w1 = host.serveTools(`missing-${newId()}`, { t: () => 1 });
    await expect(w1.ready).rejects.toMatchObject({ type: 'SessionNotFound' });
    await expect(w1.closed).rejects.toMatchObject({ type: 'SessionNotFound' });
    const bad = host.serveTools(null, [{ name: 'badschema', parameters: { type: 'nonsense' }, handler: () => 1 }]);
    const err = await failure(bad.ready);
    expect(err.type).toBe('ValidationError');
    expect(err.fieldViolations.length).toBeGreaterThan(0);
  });

  it('should reconnect a worker whose connection was cut, failing its in-flight call with Unavailable', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const caller = client();
      const host = client({ baseUrl: proxy.url, retry: { initialDelayMs: 5, maxDelayMs: 50 } });
      const session = await caller.createSession({ id: newId() });
      const started = signalled();
      const aborted = signalled();
      const errors: BridgeError[] = [];
      const worker = host.serveTools(
        session,
        {
          hang: (_a, ctx) =>
            new Promise((_r, reject) => {
              started.resolve();
              ctx.signal.addEventListener('abort', () => {
                aborted.resolve();
                reject(ctx.signal.reason as Error);
              });
            }),
          ping: () => 'pong',
        },
        { onError: (e) => errors.push(e) },
      );
      await worker.ready;
      const id = worker.workerId;
      const pending = session.tools.call('hang');
      await started.promise;
      proxy.cut();
      await expect(pending).rejects.toMatchObject({ type: 'Unavailable', toolName: 'hang' });
      await aborted.promise;
      // The worker comes back under the same id and serves again.
      await eventually(async () => {
        try {
          return (await session.tools.call('ping')) === 'pong';
        } catch {
          return false;
        }
      }, 'the worker to reconnect');
      expect(worker.workerId).toBe(id);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors[0]?.type).toBe('Unavailable');
    } finally {
      await proxy.close();
    }
  });

  it('should surface a stream cut mid-way as Unavailable after the chunks received', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const caller = client({ baseUrl: proxy.url });
      const host = client();
      const session = await caller.createSession({ id: newId() });
      const gate = signalled();
      const worker = host.serveTools(session, {
        twoThenWait: {
          async *handler(_a, ctx) {
            yield 'a';
            yield 'b';
            await Promise.race([gate.promise, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
          },
        },
      });
      await worker.ready;
      const got: unknown[] = [];
      const err = await failure(
        (async () => {
          for await (const c of session.tools.stream('twoThenWait')) {
            got.push(c);
            if (got.length === 2) proxy.cut();
          }
        })(),
      );
      gate.resolve();
      expect(got).toEqual(['a', 'b']);
      expect(err).toMatchObject({ type: 'Unavailable', toolName: 'twoThenWait' });
    } finally {
      await proxy.close();
    }
  });
});
