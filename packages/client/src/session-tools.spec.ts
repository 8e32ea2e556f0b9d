import { create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType } from '@unified-bridge/proto';
import { FakeBridge, wireError } from '../test/support/fake-bridge.js';
import { FakeTools } from '../test/support/fake-tools.js';
import { rejection } from '../test/support/rejection.js';
import type { BridgeClient } from './client.js';
import type { BridgeClientOptions } from './client-options.js';
import { isBridgeError } from './errors.js';
import { createBridgeClient } from './node.js';
import type { Session } from './session.js';

const toolFailure = (toolErrorType: string, message: string, details: Record<string, string>): ConnectError =>
  new ConnectError(message, Code.Unknown, undefined, [
    {
      desc: ErrorDetailSchema,
      value: create(ErrorDetailSchema, { type: ErrorType.TOOL_ERROR, message, details, toolErrorType }),
    },
  ]);

const rateLimited = (ms: number): ConnectError =>
  wireError(Code.ResourceExhausted, ErrorType.RATE_LIMITED, 'too many calls', { retryDelay: durationFromMs(ms) });

const unavailable = (): ConnectError => wireError(Code.Unavailable, ErrorType.UNAVAILABLE, 'down');

describe('session.tools (in-memory transport)', () => {
  let bridge: FakeBridge;
  let tools: FakeTools;
  let client: BridgeClient;
  let session: Session;

  async function setup(opts: Partial<BridgeClientOptions> = {}): Promise<void> {
    bridge = new FakeBridge();
    tools = new FakeTools();
    tools.host.set('add', { description: 'adds', run: (a) => (a.a as number) + (a.b as number) });
    tools.host.set('big', { run: () => 2n ** 60n });
    tools.host.set('fail', {
      run: () => {
        throw toolFailure('ValidationError', 'Invalid input', { field: 'a', reason: 'negative' });
      },
    });
    tools.host.set('count', {
      async *stream(a) {
        for (let i = 0; i < (a.n as number); i++) yield i;
      },
    });
    const transport = createRouterTransport((r) => {
      bridge.routes(r);
      tools.routes(r);
    });
    client = createBridgeClient({ transport, retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...opts });
    session = await client.createSession({ id: 's1' });
  }

  beforeEach(() => setup());
  afterEach(() => client?.close());

  describe('list', () => {
    it('should list every tool of every page, ordered by name', async () => {
      tools.defaultPageSize = 2;
      for (const n of ['z1', 'z2', 'z3']) tools.host.set(n, { run: () => n });
      // The client asks for pages of 1000; make the fake page anyway to exercise paging.
      const listed = await session.tools.list();
      expect(listed.map((t) => t.name)).toEqual(['add', 'big', 'count', 'fail', 'z1', 'z2', 'z3']);
      expect(listed[0]).toEqual({
        name: 'add',
        description: 'adds',
        parameters: undefined,
        streaming: false,
        metadata: {},
        owner: 'host',
        global: true,
      });
      expect(listed.find((t) => t.name === 'count')?.streaming).toBe(true);
    });

    it('should cache the list, bypass it with fresh and drop it on ToolNotFound', async () => {
      await session.tools.list();
      await session.tools.list();
      expect(tools.count('listTools')).toBe(1);
      await session.tools.list({ fresh: true });
      expect(tools.count('listTools')).toBe(2);
      await expect(session.tools.call('nope')).rejects.toMatchObject({ type: 'ToolNotFound', toolName: 'nope' });
      await session.tools.list();
      expect(tools.count('listTools')).toBe(3);
      session.tools.invalidate();
      await session.tools.list();
      expect(tools.count('listTools')).toBe(4);
    });

    it('should not cache with toolListTtlMs 0', async () => {
      await client.close();
      await setup({ toolListTtlMs: 0 });
      await session.tools.list();
      await session.tools.list();
      expect(tools.count('listTools')).toBe(2);
    });

    it('should reject a bad toolListTtlMs', () => {
      expect(() => createBridgeClient({ transport: createRouterTransport(() => {}), toolListTtlMs: -1 })).toThrow(
        /toolListTtlMs must be a non-negative number/,
      );
    });
  });

  describe('call', () => {
    it('should call a tool and decode its result', async () => {
      expect(await session.tools.call('add', { a: 1, b: 2 })).toBe(3);
      expect(await session.tools.call('big')).toBe(2n ** 60n);
      const r = await session.tools.callWithMetrics<number>('add', { a: 2, b: 2 });
      expect(r.result).toBe(4);
      expect(r.metrics.executedBy).toBe('host');
      expect(typeof r.metrics.durationMs).toBe('number');
    });

    it('should map a tool failure to a ToolError with toolErrorType, details and toolName', async () => {
      const err = await rejection(session.tools.call('fail', { a: -5, b: 10 }));
      expect(err).toMatchObject({
        name: 'BridgeError',
        type: 'ToolError',
        code: Code.Unknown,
        toolErrorType: 'ValidationError',
        toolName: 'fail',
        details: { field: 'a', reason: 'negative' },
      });
      expect(err.message).toContain('Invalid input');
    });

    it('should report an unreachable server as Unavailable with the tool name, and never retry it', async () => {
      tools.failNext('executeTool', unavailable());
      const err = await rejection(session.tools.call('add', { a: 1, b: 1 }));
      expect(err).toMatchObject({ type: 'Unavailable', toolName: 'add' });
      expect(tools.count('executeTool')).toBe(1);
    });

    it('should reject arguments that are not a JSON object before any round trip', async () => {
      const e1 = await rejection(session.tools.call('add', { a: 1n } as never));
      expect(e1).toMatchObject({ type: 'ValidationError', fieldViolations: [{ field: '/a' }] });
      const e2 = await rejection(session.tools.call('add', [1, 2] as never));
      expect(e2.type).toBe('ValidationError');
      const e3 = await rejection(session.tools.call('add', { x: { y: [NaN] } }));
      expect(e3.fieldViolations[0]?.field).toBe('/x/y/0');
      expect(tools.count('executeTool')).toBe(0);
      await expect(session.tools.call('')).rejects.toThrow(TypeError);
      expect(() => session.tools.proxy('')).toThrow(TypeError);
      expect(() => session.tools.get('')).toThrow(TypeError);
    });

    it('should cancel a call through its signal', async () => {
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      tools.host.set('slow', {
        run: (_a, signal) =>
          new Promise((_r, reject) => {
            started();
            signal.addEventListener('abort', () => reject(new ConnectError('cancelled', Code.Canceled)));
          }),
      });
      const ac = new AbortController();
      const p = session.tools.call('slow', {}, { signal: ac.signal });
      await running;
      ac.abort();
      await expect(p).rejects.toMatchObject({ type: 'Cancelled', toolName: 'slow' });
    });
  });

  describe('stream', () => {
    it('should yield chunks in order, then end with the totals', async () => {
      const stream = session.tools.stream<number>('count', { n: 4 });
      const got: number[] = [];
      for await (const n of stream) got.push(n);
      expect(got).toEqual([0, 1, 2, 3]);
      expect(stream.totalChunks).toBe(4);
      expect(stream.metrics?.executedBy).toBe('host');
      expect(() => stream[Symbol.asyncIterator]()).toThrow(/only once/);
    });

    it('should surface a dropped stream as Unavailable after the chunks already received', async () => {
      tools.host.set('flaky', {
        async *stream() {
          yield 'a';
          yield 'b';
          throw new ConnectError('connection lost', Code.Unavailable);
        },
      });
      const got: unknown[] = [];
      const err = await rejection(
        (async () => {
          for await (const c of session.tools.stream('flaky')) got.push(c);
        })(),
      );
      expect(got).toEqual(['a', 'b']);
      expect(err).toMatchObject({ type: 'Unavailable', code: Code.Unavailable, toolName: 'flaky' });
    });

    it('should fail a stream that ends without its final message, after its chunks', async () => {
      tools.tamperStream = (m) => (m.payload.case === 'end' ? undefined : m);
      const got: unknown[] = [];
      const err = await rejection(
        (async () => {
          for await (const x of session.tools.stream('count', { n: 2 })) got.push(x);
        })(),
      );
      expect(got).toEqual([0, 1]);
      expect(err).toMatchObject({ type: 'Unavailable', toolName: 'count' });
      expect(err.message).toMatch(/before its final message/);
    });

    it('should reject a sequence gap as Internal', async () => {
      tools.tamperStream = (m) => (m.sequence === 1n ? undefined : m);
      const got: unknown[] = [];
      const err = await rejection(
        (async () => {
          for await (const x of session.tools.stream('count', { n: 3 })) got.push(x);
        })(),
      );
      expect(got).toEqual([0]);
      expect(err).toMatchObject({ type: 'Internal', toolName: 'count' });
      expect(err.message).toMatch(/expected sequence 1, got 2/);
    });

    it('should cancel the call when the consumer breaks out of the loop', async () => {
      let cancelled!: () => void;
      const sawCancel = new Promise<void>((r) => (cancelled = r));
      tools.host.set('endless', {
        async *stream(_a, signal) {
          signal.addEventListener('abort', () => cancelled());
          for (let i = 0; ; i++) {
            if (signal.aborted) return;
            yield i;
            await new Promise((r) => setImmediate(r));
          }
        },
      });
      const got: number[] = [];
      for await (const n of session.tools.stream<number>('endless')) {
        got.push(n);
        if (n === 2) break;
      }
      expect(got).toEqual([0, 1, 2]);
      await sawCancel; // the tool's signal was aborted: the call was cancelled, not left running
    });

    it('should report ToolNotFound for a stream of an unknown tool', async () => {
      const it = session.tools.stream('nope')[Symbol.asyncIterator]();
      await expect(it.next()).rejects.toMatchObject({ type: 'ToolNotFound', toolName: 'nope' });
    });
  });

  describe('callMany', () => {
    it('should return one outcome per call in request order', async () => {
      tools.host.set('slowEcho', {
        run: async (a) => {
          await new Promise((r) => setTimeout(r, a.ms as number));
          return a.v;
        },
      });
      const r = await session.tools.callMany(
        [
          { name: 'slowEcho', args: { ms: 20, v: 'first' } },
          { name: 'fail' },
          { name: 'slowEcho', args: { ms: 0, v: 'third' } },
          { name: 'nope' },
          { name: 'add', args: { a: 1, b: 2 } },
        ],
        { maxConcurrency: 4 },
      );
      expect(r.map((x) => x.name)).toEqual(['slowEcho', 'fail', 'slowEcho', 'nope', 'add']);
      expect(r[0]).toMatchObject({ ok: true, value: 'first' });
      expect(r[1]).toMatchObject({
        ok: false,
        error: { type: 'ToolError', toolErrorType: 'ValidationError', toolName: 'fail', code: Code.Unknown },
      });
      expect(r[2]).toMatchObject({ ok: true, value: 'third' });
      expect(r[3]).toMatchObject({ ok: false, error: { type: 'ToolNotFound', code: Code.NotFound } });
      expect(r[4]).toMatchObject({ ok: true, value: 3, metrics: { executedBy: 'host' } });
      expect(await session.tools.callMany([])).toEqual([]);
      await expect(session.tools.callMany([], { maxConcurrency: -1 })).rejects.toThrow(RangeError);
    });
  });

  describe('proxy', () => {
    // `get` is the deprecated alias of `proxy`: both must keep working alike.
    it.each(['proxy', 'get'] as const)('should call, stream and describe a tool through its proxy (%s)', async (m) => {
      const add = session.tools[m]<number>('add');
      expect(add.name).toBe('add');
      expect(await add({ a: 1, b: 2 })).toBe(3);
      expect((await add.callWithMetrics({ a: 2, b: 3 })).result).toBe(5);
      expect((await add.spec).description).toBe('adds');
      const chunks: unknown[] = [];
      for await (const c of session.tools[m]('count').stream({ n: 2 })) chunks.push(c);
      expect(chunks).toEqual([0, 1]);
      await expect(session.tools[m]('nope').spec).rejects.toMatchObject({ type: 'ToolNotFound', toolName: 'nope' });
    });
  });

  describe('callWithRetry', () => {
    it('should wait the server retry delay of RateLimited, then retry', async () => {
      tools.failNext('executeTool', rateLimited(5000));
      const waits: number[] = [];
      const result = await session.tools.callWithRetry(
        'add',
        { a: 1, b: 2 },
        { sleep: async (ms) => void waits.push(ms) },
      );
      expect(result).toBe(3);
      expect(tools.count('executeTool')).toBe(2);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(5000);
    });

    it('should retry Unavailable with growing backoff and give up after `retries`', async () => {
      tools.failNext('executeTool', unavailable(), unavailable(), unavailable());
      const waits: number[] = [];
      const err = await rejection(
        session.tools.callWithRetry('add', { a: 1, b: 2 }, { retries: 2, sleep: async (ms) => void waits.push(ms) }),
      );
      expect(err).toMatchObject({ type: 'Unavailable', toolName: 'add' });
      expect(tools.count('executeTool')).toBe(3);
      expect(waits).toHaveLength(2);
      expect(waits[1]).toBeGreaterThanOrEqual(waits[0] as number);
    });

    it('should never retry a ToolError or a ValidationError', async () => {
      const sleep = jest.fn(async () => {});
      await expect(session.tools.callWithRetry('fail', {}, { sleep })).rejects.toMatchObject({ type: 'ToolError' });
      tools.failNext('executeTool', wireError(Code.InvalidArgument, ErrorType.VALIDATION_ERROR, 'bad a'));
      await expect(session.tools.callWithRetry('add', {}, { sleep })).rejects.toMatchObject({
        type: 'ValidationError',
      });
      expect(sleep).not.toHaveBeenCalled();
      expect(tools.count('executeTool')).toBe(2);
    });

    it('should stop waiting when its signal aborts', async () => {
      tools.failNext('executeTool', rateLimited(50));
      const ac = new AbortController();
      const p = session.tools.callWithRetry(
        'add',
        { a: 1, b: 1 },
        {
          signal: ac.signal,
          sleep: (_ms, signal) =>
            new Promise((_r, reject) => {
              signal?.addEventListener('abort', () => reject(signal.reason as Error));
              ac.abort();
            }),
        },
      );
      await expect(p).rejects.toMatchObject({ type: 'Cancelled', toolName: 'add' });
      expect(tools.count('executeTool')).toBe(1);
    });

    it('should retry an attempt that exceeded attemptTimeoutMs', async () => {
      let calls = 0;
      tools.host.set('flaky', {
        run: (_a, signal) => {
          calls++;
          if (calls > 1) return 'success';
          return new Promise((_r, reject) =>
            signal.addEventListener('abort', () => reject(new ConnectError('deadline', Code.DeadlineExceeded))),
          );
        },
      });
      const result = await session.tools.callWithRetry(
        'flaky',
        {},
        {
          retries: 2,
          attemptTimeoutMs: 200, // only the hanging first attempt reaches it, even on a loaded machine
          sleep: async () => {},
        },
      );
      expect(result).toBe('success');
      expect(calls).toBe(2);
    });

    it('should not wait beyond the call deadline', async () => {
      tools.failNext('executeTool', rateLimited(60_000));
      const sleep = jest.fn(async () => {});
      await expect(session.tools.callWithRetry('add', {}, { timeoutMs: 1000, sleep })).rejects.toMatchObject({
        type: 'RateLimited',
        retryDelayMs: 60_000,
      });
      expect(sleep).not.toHaveBeenCalled();
    });

    it('should reject bad options', async () => {
      await expect(session.tools.callWithRetry('add', {}, { retries: -1 })).rejects.toThrow(RangeError);
    });
  });

  it('should keep one BridgeError class for tool failures', async () => {
    const err = await rejection(session.tools.call('fail'));
    expect(err).toBeInstanceOf(Error);
    expect(isBridgeError(err, 'ToolError')).toBe(true);
  });
});
