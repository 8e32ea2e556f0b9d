import { Code, createRouterTransport, type Transport } from '@connectrpc/connect';
import { ErrorType } from '@unified-bridge/proto';
import { FakeBridge, wireError } from '../test/support/fake-bridge.js';
import { eventually } from '../test/support/eventually.js';
import { FakeTools } from '../test/support/fake-tools.js';
import type { BridgeClient } from './client.js';
import { toolError } from '@unified-bridge/types/internal';
import { isBridgeError, type BridgeError } from './errors.js';
import { createBridgeClient } from './node.js';
import type { Session } from './session.js';
import type { ToolContext } from './tool-definitions.js';

/** A promise with its resolve function, to synchronise on events instead of sleeping. */
function signalled<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('client.serveTools (in-memory transport)', () => {
  let bridge: FakeBridge;
  let tools: FakeTools;
  let transport: Transport;
  let host: BridgeClient; // serves the tools
  let caller: BridgeClient; // calls them
  let session: Session;

  beforeEach(async () => {
    bridge = new FakeBridge();
    tools = new FakeTools();
    transport = createRouterTransport((r) => {
      bridge.routes(r);
      tools.routes(r);
    });
    host = createBridgeClient({ transport, retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    caller = createBridgeClient({ transport, retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    session = await caller.createSession({ id: 's1' });
  });

  afterEach(async () => {
    await host.close();
    await caller.close();
  });

  it('should register, run a call and report its result', async () => {
    const worker = host.serveTools(
      's1',
      [
        {
          name: 'add',
          description: 'Adds',
          parameters: { type: 'object', properties: { a: { type: 'integer' } } },
          metadata: { lang: 'ts' },
          handler: ({ a, b }) => (a as number) + (b as number),
        },
      ],
      { maxConcurrency: 3 },
    );
    expect(worker.workerId).toBe('');
    await worker.ready;
    expect(worker.workerId).toMatch(/^w\d+$/);
    expect(worker.connected).toBe(true);
    expect(worker.sessionId).toBe('s1');
    expect(tools.serveRequests).toEqual([{ workerId: '', sessionId: 's1', maxConcurrency: 3, tools: ['add'] }]);
    const listed = await session.tools.list();
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'add',
        description: 'Adds',
        parameters: { type: 'object', properties: { a: { type: 'integer' } } },
        metadata: { lang: 'ts' },
        streaming: false,
        owner: worker.workerId,
      }),
    ]);
    const r = await session.tools.callWithMetrics('add', { a: 2, b: 40 });
    expect(r.result).toBe(42);
    expect(r.metrics.executedBy).toBe(worker.workerId);
    expect(tools.reports).toEqual([{ kind: 'result', callId: expect.any(String), outcome: 'result' }]);
    await worker.stop();
    await expect(worker.closed).resolves.toBeUndefined();
    expect(worker.connected).toBe(false);
    expect(tools.workers.size).toBe(0);
  });

  it('should accept a record of handlers and definitions, and encode results losslessly', async () => {
    const worker = host.serveTools(null, {
      big: () => 2n ** 62n,
      none: () => undefined,
      emb: { description: 'an embedding', handler: () => new Float32Array([0.5, 0.25]) },
    });
    await worker.ready;
    expect(worker.sessionId).toBeUndefined();
    expect(await session.tools.call('big')).toBe(2n ** 62n);
    expect(await session.tools.call('none')).toBeNull();
    expect(await session.tools.call('emb')).toMatchObject({ dtype: 'float32', shape: [2] });
  });

  it('should report a toolError with its type and details, and a thrown Error by name and message only', async () => {
    const worker = host.serveTools(session, {
      strict: () => {
        throw toolError('ValidationError', 'Invalid input', { field: 'a', reason: 'negative' });
      },
      broken: () => {
        throw new TypeError('x is not a function');
      },
      weird: () => () => 'a function has no wire encoding',
    });
    await worker.ready;
    const e1 = (await session.tools.call('strict').catch((e: unknown) => e)) as BridgeError;
    expect(e1).toMatchObject({
      type: 'ToolError',
      toolErrorType: 'ValidationError',
      message: 'Invalid input',
      details: { field: 'a', reason: 'negative' },
      toolName: 'strict',
    });
    const e2 = (await session.tools.call('broken').catch((e: unknown) => e)) as BridgeError;
    expect(e2).toMatchObject({ type: 'ToolError', toolErrorType: 'TypeError', message: 'x is not a function' });
    expect(e2.message).not.toMatch(/\bat /); // no stack
    const e3 = (await session.tools.call('weird').catch((e: unknown) => e)) as BridgeError;
    expect(e3).toMatchObject({ type: 'ToolError', toolErrorType: 'InvalidResult' });
  });

  it('should stream chunks from an async generator and from ctx.emit, in order', async () => {
    const worker = host.serveTools(session, [
      {
        name: 'count',
        async *handler({ n }) {
          for (let i = 0; i < (n as number); i++) yield i;
        },
      },
      {
        name: 'letters',
        streaming: true,
        handler: async (_args, ctx) => {
          for (const c of 'abc') await ctx.emit(c);
        },
      },
      { name: 'unary', handler: (_a, ctx) => ctx.emit('x') },
    ]);
    await worker.ready;
    expect((await session.tools.list()).filter((t) => t.streaming).map((t) => t.name)).toEqual(['count', 'letters']);
    const stream = session.tools.stream<number>('count', { n: 5 });
    const got: number[] = [];
    for await (const n of stream) got.push(n);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(stream.totalChunks).toBe(5);
    expect(stream.metrics?.executedBy).toBe(worker.workerId);
    const chunkSeqs = tools.reports.filter((r) => r.kind === 'chunk').map((r) => r.sequence);
    expect(chunkSeqs).toEqual([0n, 1n, 2n, 3n, 4n]);
    const letters: string[] = [];
    for await (const c of session.tools.stream<string>('letters')) letters.push(c);
    expect(letters).toEqual(['a', 'b', 'c']);
    await expect(session.tools.call('unary')).rejects.toMatchObject({ type: 'ToolError', toolErrorType: 'TypeError' });
  });

  it('should abort the handler signal when the caller cancels (WorkerCancel)', async () => {
    const aborted = signalled<unknown>();
    const worker = host.serveTools(session, {
      endless: {
        async *handler(_a, ctx) {
          ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason));
          for (let i = 0; !ctx.signal.aborted; i++) {
            yield i;
            await new Promise((r) => setImmediate(r));
          }
        },
      },
    });
    await worker.ready;
    for await (const n of session.tools.stream<number>('endless')) if (n === 2) break;
    const reason = await aborted.promise;
    expect(isBridgeError(reason, 'Cancelled')).toBe(true);
    await eventually(() => worker.activeCalls === 0, 'the call to end');
    // A cancelled call reports no result.
    expect(tools.reports.filter((r) => r.kind === 'result')).toEqual([]);
  });

  it('should give the handler the call context, a deadline and a Session of the caller', async () => {
    await session.register('x', 'integer', 1);
    let seen: ToolContext | undefined;
    const worker = host.serveTools(null, {
      bump: async (args, ctx) => {
        seen = ctx;
        const x = await ctx.session.get<number>('x', { fresh: true });
        await ctx.session.set('x', x + (args.by as number));
        return x;
      },
    });
    await worker.ready;
    expect(await session.tools.call('bump', { by: 10 }, { timeoutMs: 20_000 })).toBe(1);
    expect(await session.get('x', { fresh: true })).toBe(11);
    expect(seen).toMatchObject({ sessionId: 's1', toolName: 'bump', callId: expect.any(String) });
    expect(seen?.deadline).toBeInstanceOf(Date);
    expect(seen?.session.id).toBe('s1');
    expect(seen?.signal.aborted).toBe(false);
  });

  it('should abort the handler signal at the call deadline', async () => {
    tools.sendCancels = false; // only the deadline (WorkerToolCall.timeout_ms) can stop the handler
    const aborted = signalled<unknown>();
    const worker = host.serveTools(session, {
      slow: (_a, ctx) =>
        new Promise((_r, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted.resolve(ctx.signal.reason);
            reject(ctx.signal.reason as Error);
          }),
        ),
    });
    await worker.ready;
    await expect(session.tools.call('slow', {}, { timeoutMs: 30 })).rejects.toMatchObject({ toolName: 'slow' });
    expect(isBridgeError(await aborted.promise, 'DeadlineExceeded')).toBe(true);
  });

  it('should answer every ping with a heartbeat carrying its nonce, and beat on a timer', async () => {
    tools.heartbeatIntervalMs = 20;
    const worker = host.serveTools(session, { t: () => 1 });
    await worker.ready;
    tools.ping(worker.workerId, 42n);
    tools.ping(worker.workerId, 43n);
    await eventually(
      () => tools.heartbeats.some((h) => h.nonce === 42n) && tools.heartbeats.some((h) => h.nonce === 43n),
      'heartbeats answering the pings',
    );
    await eventually(() => tools.heartbeats.filter((h) => h.nonce === 0n).length >= 2, 'timer heartbeats');
    expect(tools.heartbeats.every((h) => h.workerId === worker.workerId)).toBe(true);
    await worker.stop();
    const after = tools.heartbeats.length;
    // stop() cleared the timer: no heartbeat is in flight any more.
    await new Promise((r) => setImmediate(r));
    expect(tools.heartbeats.length).toBe(after);
  });

  it('should reconnect with the same worker id after the stream breaks, aborting in-flight calls', async () => {
    const errors: BridgeError[] = [];
    const started = signalled();
    const aborted = signalled<unknown>();
    const worker = host.serveTools(
      session,
      {
        hang: (_a, ctx) =>
          new Promise((_r, reject) => {
            started.resolve();
            ctx.signal.addEventListener('abort', () => {
              aborted.resolve(ctx.signal.reason);
              reject(ctx.signal.reason as Error);
            });
          }),
        echo: ({ v }) => v,
      },
      { onError: (e) => errors.push(e) },
    );
    await worker.ready;
    const id = worker.workerId;
    const pending = session.tools.call('hang');
    await started.promise;
    tools.dropWorker(id);
    await expect(pending).rejects.toMatchObject({ type: 'Unavailable' });
    expect(isBridgeError(await aborted.promise, 'Unavailable')).toBe(true);
    await eventually(() => tools.workers.has(id), 'the worker to reconnect');
    expect(tools.serveRequests.map((r) => r.workerId)).toEqual(['', id]);
    expect(errors.map((e) => e.type)).toEqual(['Unavailable']);
    expect(await session.tools.call('echo', { v: 'back' })).toBe('back');
  });

  it('should reconnect after a failed connection attempt too', async () => {
    tools.failNext('serveTools', wireError(Code.Unavailable, ErrorType.UNAVAILABLE, 'down'));
    const worker = host.serveTools(session, { t: () => 1 });
    await worker.ready;
    expect(tools.count('serveTools')).toBe(2);
  });

  it('should stop for good on a non-transient failure, rejecting ready and closed', async () => {
    tools.failNext('serveTools', wireError(Code.NotFound, ErrorType.SESSION_NOT_FOUND, 'no such session'));
    const worker = host.serveTools('gone', { t: () => 1 });
    await expect(worker.ready).rejects.toMatchObject({ type: 'SessionNotFound' });
    await expect(worker.closed).rejects.toMatchObject({ type: 'SessionNotFound' });
    await expect(worker.stop()).resolves.toBeUndefined();
    expect(tools.count('serveTools')).toBe(1);
  });

  it('should run at most maxConcurrency handlers at once', async () => {
    let active = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const worker = host.serveTools(
      session,
      {
        gated: async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise<void>((r) => gates.push(r));
          active--;
          return 'ok';
        },
      },
      { maxConcurrency: 2 },
    );
    await worker.ready;
    const calls = [1, 2, 3, 4].map(() => session.tools.call('gated'));
    await eventually(() => gates.length === 2, 'two handlers to start');
    expect(active).toBe(2);
    while (gates.length > 0 || active > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(peak).toBe(2);
  });

  it('should stop its workers when the client closes, and refuse bad definitions', async () => {
    const worker = host.serveTools(session, { t: () => 1 });
    await worker.ready;
    await host.close();
    await expect(worker.closed).resolves.toBeUndefined();
    expect(tools.workers.size).toBe(0);
    expect(() => host.serveTools(session, { t: () => 1 })).toThrow(/closed/);
    expect(() => caller.serveTools(session, [])).toThrow(/at least one tool/);
    expect(() => caller.serveTools(session, [{ name: '1bad', handler: () => 1 }])).toThrow(/tool name must be/);
    expect(() =>
      caller.serveTools(session, [
        { name: 'a', handler: () => 1 },
        { name: 'a', handler: () => 2 },
      ]),
    ).toThrow(/defined twice/);
    expect(() => caller.serveTools(session, [{ name: 'a' } as never])).toThrow(/needs a handler/);
    expect(() => caller.serveTools('', { a: () => 1 })).toThrow(/a Session, a session id, or null/);
    expect(() => caller.serveTools(session, { a: () => 1 }, { maxConcurrency: 0 })).toThrow(RangeError);
  });

  it('should stop after stopGraceMs when a handler ignores its signal, telling onError and leaving it running', async () => {
    const started = signalled();
    let seen: AbortSignal | undefined;
    const errors: BridgeError[] = [];
    const worker = host.serveTools(
      session,
      {
        stuck: (_args, ctx) => {
          seen = ctx.signal;
          started.resolve();
          return new Promise(() => {}); // never settles, ignores ctx.signal
        },
      },
      { stopGraceMs: 20, onError: (e) => errors.push(e) },
    );
    await worker.ready;
    const abortCall = new AbortController();
    const call = session.tools.call('stuck', {}, { signal: abortCall.signal }).catch((e: unknown) => e);
    await started.promise;
    expect(worker.activeCalls).toBe(1);
    await worker.stop(); // would never resolve without the grace period
    await expect(worker.closed).resolves.toBeUndefined();
    expect(seen?.aborted).toBe(true);
    expect(errors).toEqual([
      expect.objectContaining({
        type: 'Cancelled',
        message: expect.stringContaining("tool 'stuck'"),
        details: { tool: 'stuck', callId: expect.any(String) },
      }),
    ]);
    expect(worker.activeCalls).toBe(1); // left to settle on its own
    abortCall.abort();
    expect(isBridgeError(await call)).toBe(true);
  });

  it('should let client.close() finish when a handler never settles, and check stopGraceMs', async () => {
    const started = signalled();
    const worker = host.serveTools(
      session,
      {
        stuck: () => {
          started.resolve();
          return new Promise(() => {});
        },
      },
      { stopGraceMs: 0 },
    );
    await worker.ready;
    const abortCall = new AbortController();
    const call = session.tools.call('stuck', {}, { signal: abortCall.signal }).catch((e: unknown) => e);
    await started.promise;
    await host.close();
    await expect(worker.closed).resolves.toBeUndefined();
    abortCall.abort();
    await call;
    for (const bad of [-1, Number.NaN, '5' as unknown as number, 2 ** 31]) {
      expect(() => caller.serveTools(session, { a: () => 1 }, { stopGraceMs: bad })).toThrow(
        /stopGraceMs must be a non-negative number/,
      );
    }
    expect(() => caller.serveTools(session, { a: () => 1 }, { stopGraceMs: Infinity }).stop()).not.toThrow();
  });

  it('should support await using', async () => {
    {
      await using worker = host.serveTools(session, { t: () => 1 });
      await worker.ready;
      expect(tools.workers.size).toBe(1);
    }
    await eventually(() => tools.workers.size === 0, 'the worker to leave');
  });
});
