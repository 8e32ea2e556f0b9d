// Tools over real sockets: host tools and worker tools, on gRPC (HTTP/2)
// and on the Connect protocol over HTTP/1.1.
import { Code, createClient } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ErrorType, SessionService, ToolService } from '@unified-bridge/proto';
import type { Value } from '@unified-bridge/proto';
import { fromWire } from '@unified-bridge/types';
import { startBridgeServer, toolError } from '../src/index.js';
import type { HostToolDefinition, StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { expectFailure } from './helpers.js';
import { RawWorker, rejection } from './tool-helpers.js';

const value = (v: Value | undefined): unknown => {
  const r = fromWire(v!);
  if (!r.ok) throw new Error('bad value');
  return r.value;
};

const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

/** Signals handed to the tools below, so tests can see them abort. */
const seen: { slow: AbortSignal[]; endless: AbortSignal[] } = { slow: [], endless: [] };
let endlessStarted: () => void = () => {};

const hostTools: HostToolDefinition[] = [
  {
    name: 'add',
    parameters: {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      required: ['a', 'b'],
    },
    handler: ({ a, b }) => (a as number) + (b as number),
  },
  {
    name: 'fail',
    handler: () => {
      throw toolError('Overloaded', 'try later', { queue: '12' });
    },
  },
  {
    name: 'size',
    parameters: { type: 'object', properties: { data: { type: 'string' } }, required: ['data'] },
    handler: ({ data }) => (data as string).length,
  },
  {
    name: 'count',
    async *handler(args) {
      for (let i = 0; i < (args['n'] as number); i++) yield { i };
    },
  },
  {
    name: 'slow',
    handler: async (_a, ctx) => {
      seen.slow.push(ctx.signal);
      await new Promise((r) => setTimeout(r, 10_000).unref());
      return 'too late';
    },
  },
  {
    name: 'endless',
    async *handler(_a, ctx) {
      seen.endless.push(ctx.signal);
      yield 'tick';
      endlessStarted();
      await aborted(ctx.signal);
    },
  },
];

describe('tools over real sockets', () => {
  let server: StartedBridgeServer;
  const managers: Http2SessionManager[] = [];
  const grpc = (): Transport => {
    // Node's HTTP/2 client refuses to buffer more than 10 MB per session unless told (maxSessionMemory, in MB).
    const sessionManager = new Http2SessionManager(server.url, undefined, { maxSessionMemory: 64 });
    managers.push(sessionManager);
    return createGrpcTransport({ baseUrl: server.url, sessionManager });
  };
  const http1 = (): Transport => createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' });
  const TRANSPORTS: [string, () => Transport][] = [
    ['gRPC over HTTP/2', grpc],
    ['Connect over HTTP/1.1', http1],
  ];

  beforeAll(async () => {
    server = await startBridgeServer({ logger: silentLogger, tools: hostTools, rateLimit: { callsPerSecond: 1000 } });
  });
  afterAll(async () => {
    for (const m of managers) m.abort();
    await server.stop();
  });

  const newSession = async (t: Transport): Promise<string> =>
    (await createClient(SessionService, t).createSession({})).session!.id;

  describe.each(TRANSPORTS)('host tools (%s)', (_name, transport) => {
    let tools: Client<typeof ToolService>;
    let sid: string;
    beforeAll(async () => {
      const t = transport();
      tools = createClient(ToolService, t);
      sid = await newSession(t);
    });

    it('should run a host tool and report metrics', async () => {
      const res = await tools.executeTool({ sessionId: sid, toolName: 'add', arguments: { a: 40, b: 2 } });
      expect(value(res.result)).toBe(42);
      expect(res.metrics?.executedBy).toBe('host');
      expect(res.metrics?.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('should report ToolError, ToolNotFound and invalid arguments', async () => {
      const d = await expectFailure(
        tools.executeTool({ sessionId: sid, toolName: 'fail' }),
        Code.Unknown,
        ErrorType.TOOL_ERROR,
      );
      expect([d.toolErrorType, d.message, d.details]).toEqual(['Overloaded', 'try later', { queue: '12' }]);
      await expectFailure(
        tools.executeTool({ sessionId: sid, toolName: 'missing' }),
        Code.NotFound,
        ErrorType.TOOL_NOT_FOUND,
      );
      const v = await expectFailure(
        tools.executeTool({ sessionId: sid, toolName: 'add', arguments: { a: 1.5, b: 2 } }),
        Code.InvalidArgument,
        ErrorType.VALIDATION_ERROR,
      );
      expect(v.fieldViolations[0]?.field).toBe('arguments/a');
    });

    it('should stream chunks in order and end with totals', async () => {
      const got: unknown[] = [];
      for await (const m of tools.executeToolStream({ sessionId: sid, toolName: 'count', arguments: { n: 50 } })) {
        got.push(m.payload.case === 'chunk' ? [m.sequence, value(m.payload.value)] : [m.sequence, m.payload.value]);
      }
      expect(got.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => [BigInt(i), { i }]));
      const [seq, end] = got[50] as [bigint, { totalChunks: bigint; metrics: { executedBy: string } }];
      expect([seq, end.totalChunks, end.metrics.executedBy, got.length]).toEqual([50n, 50n, 'host', 51]);
    });

    it('should abort the handler when the caller cancels the stream', async () => {
      const started = new Promise<void>((r) => (endlessStarted = r));
      const before = seen.endless.length;
      const ctrl = new AbortController();
      const stream = tools.executeToolStream({ sessionId: sid, toolName: 'endless' }, { signal: ctrl.signal });
      const it = stream[Symbol.asyncIterator]();
      expect((await it.next()).value?.payload.case).toBe('chunk');
      await started;
      ctrl.abort();
      await expect(it.next()).rejects.toThrow();
      await aborted(seen.endless[before]!);
    });

    // The deadline leaves room for the call to reach the handler on a loaded machine (seen.slow must get its signal).
    it('should fail a 10 s tool with DEADLINE_EXCEEDED at a 1 s deadline and abort it', async () => {
      const before = seen.slow.length;
      const err = await rejection(tools.executeTool({ sessionId: sid, toolName: 'slow' }, { timeoutMs: 1000 }));
      expect(err.code).toBe(Code.DeadlineExceeded);
      await aborted(seen.slow[before]!);
    });

    it('should run a batch in request order with per-item errors', async () => {
      const res = await tools.executeTools({
        sessionId: sid,
        calls: [
          { toolName: 'add', arguments: { a: 1, b: 1 } },
          { toolName: 'fail' },
          { toolName: 'missing' },
          { toolName: 'add', arguments: { a: 2, b: 2 } },
        ],
      });
      expect(
        res.results.map((r) => [r.code, r.outcome.case === 'result' ? value(r.outcome.value) : r.outcome.value?.type]),
      ).toEqual([
        [0, 2],
        [Code.Unknown, ErrorType.TOOL_ERROR],
        [Code.NotFound, ErrorType.TOOL_NOT_FOUND],
        [0, 4],
      ]);
    });

    it('should accept a 9 MB argument and reject 11 MB with "message too large"', async () => {
      const nine = await tools.executeTool({
        sessionId: sid,
        toolName: 'size',
        arguments: { data: 'x'.repeat(9_000_000) },
      });
      expect(value(nine.result)).toBe(9_000_000);
      const d = await expectFailure(
        tools.executeTool({ sessionId: sid, toolName: 'size', arguments: { data: 'x'.repeat(11_000_000) } }),
        Code.ResourceExhausted,
        ErrorType.PAYLOAD_TOO_LARGE,
      );
      expect(d.message).toBe('message too large');
    });
  });

  it('should rate-limit tool calls per session with a retry delay', async () => {
    await using limited = await startBridgeServer({
      logger: silentLogger,
      tools: hostTools,
      rateLimit: { callsPerSecond: 0.001, burst: 3 }, // no token comes back while the test runs
    });
    const t = createConnectTransport({ baseUrl: limited.url, httpVersion: '1.1' });
    const tools = createClient(ToolService, t);
    const sid = (await createClient(SessionService, t).createSession({})).session!.id;
    const call = () => tools.executeTool({ sessionId: sid, toolName: 'add', arguments: { a: 1, b: 1 } });
    await call();
    await call();
    await call();
    const d = await expectFailure(call(), Code.ResourceExhausted, ErrorType.RATE_LIMITED);
    expect(Number(d.retryDelay?.seconds ?? 0n) * 1000 + (d.retryDelay?.nanos ?? 0) / 1e6).toBeGreaterThan(0);
  });

  describe.each(TRANSPORTS)('worker tools, worker on %s', (_name, workerTransport) => {
    it('should serve a tool that another client calls, and stream its chunks', async () => {
      const caller = grpc();
      const sid = await newSession(caller);
      const worker = new RawWorker(workerTransport(), {
        sessionId: sid,
        tools: [{ name: 'shout', parameters: { type: 'object', properties: { text: { type: 'string' } } } }],
        handler: (call) => String(call.arguments?.['text']).toUpperCase(),
      });
      const streamer = new RawWorker(workerTransport(), {
        sessionId: sid,
        tools: [{ name: 'letters', streaming: true }],
      });
      await Promise.all([worker.registered, streamer.registered]);
      const tools = createClient(ToolService, http1());
      const res = await tools.executeTool({ sessionId: sid, toolName: 'shout', arguments: { text: 'hi' } });
      expect([value(res.result), res.metrics?.executedBy]).toEqual(['HI', worker.workerId]);

      const got: unknown[] = [];
      const done = (async () => {
        for await (const m of tools.executeToolStream({ sessionId: sid, toolName: 'letters' })) {
          got.push(m.payload.case === 'chunk' ? value(m.payload.value) : 'end');
        }
      })();
      const call = await streamer.call();
      for (const [i, c] of ['a', 'b', 'c'].entries()) expect(await streamer.chunk(call.callId, i, c)).toBe(true);
      await streamer.result(call.callId, undefined);
      await done;
      expect(got).toEqual(['a', 'b', 'c', 'end']);
      await worker.stop();
      await streamer.stop();
    });

    it('should fail the caller with UNAVAILABLE promptly when the worker disconnects mid-call', async () => {
      const caller = grpc();
      const sid = await newSession(caller);
      const worker = new RawWorker(workerTransport(), {
        sessionId: sid,
        workerId: 'w-gone',
        tools: [{ name: 'hang' }],
      });
      await worker.registered;
      // A long deadline: only the disconnect can end this call early.
      const pending = createClient(ToolService, caller).executeTool(
        { sessionId: sid, toolName: 'hang' },
        { timeoutMs: 60_000 },
      );
      await worker.call();
      await worker.stop();
      const d = await expectFailure(pending, Code.Unavailable, ErrorType.UNAVAILABLE);
      expect(d.message).toContain('w-gone');
    }, 10_000);

    it('should share calls between two workers of one tool', async () => {
      const caller = grpc();
      const sid = await newSession(caller);
      const mk = (id: string) =>
        new RawWorker(workerTransport(), { sessionId: sid, workerId: id, tools: [{ name: 'who' }], handler: () => id });
      const a = mk('w-a');
      const b = mk('w-b');
      await Promise.all([a.registered, b.registered]);
      const tools = createClient(ToolService, caller);
      const by = await Promise.all(
        Array.from({ length: 8 }, () => tools.executeTool({ sessionId: sid, toolName: 'who' })),
      );
      const counts = { 'w-a': 0, 'w-b': 0 } as Record<string, number>;
      for (const r of by) counts[value(r.result) as string]!++;
      expect(counts['w-a']).toBeGreaterThan(0);
      expect(counts['w-b']).toBeGreaterThan(0);
      expect(counts['w-a']! + counts['w-b']!).toBe(8);
      await a.stop();
      await b.stop();
    });

    it('should end the worker with SessionNotFound when its session closes', async () => {
      const caller = grpc();
      const sid = await newSession(caller);
      const worker = new RawWorker(workerTransport(), { sessionId: sid, tools: [{ name: 'x' }] });
      await worker.registered;
      await createClient(SessionService, caller).closeSession({ sessionId: sid });
      const end = await worker.ended;
      expect(end?.code).toBe(Code.NotFound);
      await expectFailure(
        createClient(ToolService, caller).executeTool({ sessionId: sid, toolName: 'x' }),
        Code.NotFound,
        ErrorType.SESSION_NOT_FOUND,
      );
    });
  });
});
