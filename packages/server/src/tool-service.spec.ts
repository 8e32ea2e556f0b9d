// ToolService through createRouterTransport (no socket): host tools,
// validation, errors, streaming, deadlines, rate limit, batches.
import { Code, createClient, createRouterTransport } from '@connectrpc/connect';
import type { Client } from '@connectrpc/connect';
import { ErrorType, SessionService, ToolService, VariableService } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import { fromWire } from '@unified-bridge/types';
import type { Value } from '@unified-bridge/proto';
import { expectFailure } from '../test/helpers.js';
import { rejection } from '../test/tool-helpers.js';
import { silentLogger } from './logger.js';
import { createBridgeRoutes } from './routes.js';
import type { BridgeRoutes, BridgeRoutesOptions } from './routes.js';
import type { HostToolDefinition } from './tool-definition.js';
import { toolError } from './tool-failure.js';

const value = (v: Value | undefined): unknown => {
  const r = fromWire(v!);
  if (!r.ok) throw new Error('bad value');
  return r.value;
};

/** Resolves when `signal` aborts (for tools that wait to be stopped). */
const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

const add: HostToolDefinition = {
  name: 'add',
  description: 'Adds two integers',
  parameters: {
    type: 'object',
    properties: { a: { type: 'integer' }, b: { type: 'integer', maximum: 100 } },
    required: ['a', 'b'],
    additionalProperties: false,
  },
  metadata: { category: 'math' },
  handler: ({ a, b }) => (a as number) + (b as number),
};

interface Setup {
  routes: BridgeRoutes;
  tools: Client<typeof ToolService>;
  sessions: Client<typeof SessionService>;
  variables: Client<typeof VariableService>;
  sid: string;
  close(): Promise<void>;
}

async function setup(options: BridgeRoutesOptions = {}): Promise<Setup> {
  const routes = createBridgeRoutes({ logger: silentLogger, tools: [add], ...options });
  const transport = createRouterTransport(routes);
  const sessions = createClient(SessionService, transport);
  const { session } = await sessions.createSession({});
  return {
    routes,
    tools: createClient(ToolService, transport),
    sessions,
    variables: createClient(VariableService, transport),
    sid: session!.id,
    close: () => routes.shutdown({ graceMs: 0 }),
  };
}

describe('ToolService with host tools (router transport)', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('should call a host tool and return its result with metrics', async () => {
    s = await setup();
    const res = await s.tools.executeTool({ sessionId: s.sid, toolName: 'add', arguments: { a: 2, b: 3 } });
    expect(value(res.result)).toBe(5);
    expect(res.metrics?.executedBy).toBe('host');
    expect(res.metrics?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('should list host tools (global and per session) with owner and global flags, paged', async () => {
    s = await setup();
    await s.routes.tools.register({ name: 'mine', handler: () => 'ok' }, { sessionId: s.sid });
    const first = await s.tools.listTools({ sessionId: s.sid, pageSize: 1 });
    expect(first.tools.map((t) => [t.name, t.owner, t.global])).toEqual([['add', 'host', true]]);
    expect(first.tools[0]?.metadata).toEqual({ category: 'math' });
    expect(first.tools[0]?.parameters?.['required']).toEqual(['a', 'b']);
    const second = await s.tools.listTools({ sessionId: s.sid, pageToken: first.nextPageToken });
    expect(second.tools.map((t) => [t.name, t.global])).toEqual([['mine', false]]);
    expect(second.nextPageToken).toBe('');
    expect(s.routes.tools.names()).toEqual(['add']);
    expect(s.routes.tools.names({ sessionId: s.sid })).toEqual(['mine']);
    // Another session does not see the session tool.
    const other = (await s.sessions.createSession({})).session!.id;
    expect((await s.tools.listTools({ sessionId: other })).tools.map((t) => t.name)).toEqual(['add']);
    await expectFailure(
      s.tools.executeTool({ sessionId: other, toolName: 'mine' }),
      Code.NotFound,
      ErrorType.TOOL_NOT_FOUND,
    );
  });

  it('should fail an unknown tool with NOT_FOUND ToolNotFound and an unknown session with SessionNotFound', async () => {
    s = await setup();
    const d = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'nope' }),
      Code.NotFound,
      ErrorType.TOOL_NOT_FOUND,
    );
    expect(d.details['tool']).toBe('nope');
    await expectFailure(
      s.tools.executeTool({ sessionId: 'missing', toolName: 'add' }),
      Code.NotFound,
      ErrorType.SESSION_NOT_FOUND,
    );
  });

  it('should reject invalid arguments with INVALID_ARGUMENT and field violations (JSON pointers)', async () => {
    s = await setup();
    let ran = false;
    await s.routes.tools.register({ ...add, name: 'add2', handler: () => (ran = true) });
    const d = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'add2', arguments: { a: 'x', b: 101 } }),
      Code.InvalidArgument,
      ErrorType.VALIDATION_ERROR,
    );
    expect(d.fieldViolations.map((v) => [v.field, v.constraint]).sort()).toEqual([
      ['arguments/a', 'type'],
      ['arguments/b', 'maximum'],
    ]);
    const missing = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'add2' }),
      Code.InvalidArgument,
      ErrorType.VALIDATION_ERROR,
    );
    expect(missing.fieldViolations[0]?.constraint).toBe('required');
    expect(ran).toBe(false);
  });

  it('should report a ToolError with the type, message, details and code the handler chose', async () => {
    s = await setup({
      tools: [
        {
          name: 'quota',
          handler: () => {
            throw toolError('QuotaExceeded', 'the daily quota is used up', { quota: '100' }, Code.FailedPrecondition);
          },
        },
        { name: 'plain', handler: () => Promise.reject(new Error('secret database password in here')) },
      ],
    });
    const d = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'quota' }),
      Code.FailedPrecondition,
      ErrorType.TOOL_ERROR,
    );
    expect([d.toolErrorType, d.message, d.details]).toEqual([
      'QuotaExceeded',
      'the daily quota is used up',
      { quota: '100' },
    ]);
    const plain = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'plain' }),
      Code.Unknown,
      ErrorType.TOOL_ERROR,
    );
    expect(plain.message).toBe('tool plain failed');
    expect(JSON.stringify(plain)).not.toContain('secret');
    expect(plain.requestId).not.toBe('');
  });

  it('should give handlers the session variables, the deadline, metadata and headers', async () => {
    s = await setup({
      tools: [
        {
          name: 'bump',
          metadata: { unit: 'K' },
          handler: async (_args, ctx) => {
            const t = await ctx.session.get<number>('temperature');
            const version = await ctx.session.set('temperature', t + 1);
            return {
              version,
              unit: ctx.metadata['unit'],
              trace: ctx.requestHeader.get('x-trace'),
              future: ctx.deadline.getTime() > Date.now(),
            };
          },
        },
        { name: 'missing', handler: (_a, ctx) => ctx.session.get('nope') },
      ],
    });
    await s.variables.registerVariable({
      sessionId: s.sid,
      name: 'temperature',
      type: 'integer',
      initialValue: { kind: { case: 'intValue', value: 1n } },
    });
    const res = await s.tools.executeTool({ sessionId: s.sid, toolName: 'bump' }, { headers: { 'x-trace': 't-1' } });
    expect(value(res.result)).toEqual({ version: 1, unit: 'K', trace: 't-1', future: true });
    const v = await s.variables.getVariable({ sessionId: s.sid, identifier: 'temperature' });
    expect(v.variable?.value?.kind).toEqual({ case: 'intValue', value: 2n });
    const d = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'missing' }),
      Code.Unknown,
      ErrorType.TOOL_ERROR,
    );
    expect(d.toolErrorType).toBe('VariableNotFound');
  });

  it('should stream chunks with consecutive sequences and an end with totals (generator and emit forms)', async () => {
    s = await setup({
      tools: [
        add,
        {
          name: 'count',
          parameters: { type: 'object', properties: { n: { type: 'integer' } } },
          async *handler(args) {
            for (let i = 0; i < (args['n'] as number); i++) yield i;
          },
        },
        {
          name: 'emitter',
          streaming: true,
          handler: async (_args, ctx) => {
            await ctx.emit('a');
            await ctx.emit('b');
            return 'last';
          },
        },
      ],
    });
    const collect = async (toolName: string, args: Record<string, number> = {}) => {
      const out: { sequence: bigint; chunk?: unknown; total?: bigint; by?: string }[] = [];
      for await (const m of s.tools.executeToolStream({ sessionId: s.sid, toolName, arguments: args })) {
        if (m.payload.case === 'chunk') out.push({ sequence: m.sequence, chunk: value(m.payload.value) });
        else if (m.payload.case === 'end') {
          out.push({
            sequence: m.sequence,
            total: m.payload.value.totalChunks,
            by: m.payload.value.metrics?.executedBy,
          });
        }
      }
      return out;
    };
    expect(await collect('count', { n: 3 })).toEqual([
      { sequence: 0n, chunk: 0 },
      { sequence: 1n, chunk: 1 },
      { sequence: 2n, chunk: 2 },
      { sequence: 3n, total: 3n, by: 'host' },
    ]);
    expect(await collect('emitter')).toEqual([
      { sequence: 0n, chunk: 'a' },
      { sequence: 1n, chunk: 'b' },
      { sequence: 2n, chunk: 'last' },
      { sequence: 3n, total: 3n, by: 'host' },
    ]);
    // A unary tool streamed: its result is the one chunk. A streaming tool called unary: chunks collected.
    expect(await collect('add', { a: 1, b: 1 })).toEqual([
      { sequence: 0n, chunk: 2 },
      { sequence: 1n, total: 1n, by: 'host' },
    ]);
    const unary = await s.tools.executeTool({ sessionId: s.sid, toolName: 'count', arguments: { n: 2 } });
    expect(value(unary.result)).toEqual([0, 1]);
    // emit() in a tool that is not streaming is a TypeError inside the handler -> generic ToolError.
    await s.routes.tools.register({ name: 'bad', handler: (_a, ctx) => ctx.emit(1) });
    await expectFailure(s.tools.executeTool({ sessionId: s.sid, toolName: 'bad' }), Code.Unknown, ErrorType.TOOL_ERROR);
  });

  it('should abort the handler when the caller cancels a stream', async () => {
    let signal: AbortSignal | undefined;
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    s = await setup({
      tools: [
        {
          name: 'forever',
          async *handler(_args, ctx) {
            signal = ctx.signal;
            yield 'first';
            started();
            await aborted(ctx.signal);
          },
        },
      ],
    });
    const ctrl = new AbortController();
    const stream = s.tools.executeToolStream({ sessionId: s.sid, toolName: 'forever' }, { signal: ctrl.signal });
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value?.payload.case).toBe('chunk');
    await inside;
    ctrl.abort();
    await expect(it.next()).rejects.toThrow();
    await aborted(signal!);
    expect(signal!.aborted).toBe(true);
  });

  it('should fail with DEADLINE_EXCEEDED and abort the handler at the caller deadline and at the default one', async () => {
    const signals: AbortSignal[] = [];
    // Deadlines leave room for each call to reach the handler on a loaded machine (both signals are checked).
    s = await setup({
      defaultToolTimeoutMs: 500,
      tools: [
        {
          name: 'slow',
          handler: async (_a, ctx) => {
            signals.push(ctx.signal);
            await new Promise((r) => setTimeout(r, 10_000).unref());
          },
        },
      ],
    });
    // The caller's own deadline: its client gives up too, so only the code is certain.
    const own = await rejection(s.tools.executeTool({ sessionId: s.sid, toolName: 'slow' }, { timeoutMs: 500 }));
    expect(own.code).toBe(Code.DeadlineExceeded);
    await aborted(signals[0]!);
    await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'slow' }),
      Code.DeadlineExceeded,
      ErrorType.DEADLINE_EXCEEDED,
    );
    expect(signals.map((x) => x.aborted)).toEqual([true, true]);
  });

  it('should rate-limit tool calls per session with a retry delay', async () => {
    // One token per 1000 s: no token can come back while the test runs, however slow the machine.
    s = await setup({ rateLimit: { callsPerSecond: 0.001, burst: 2 } });
    const call = (sessionId: string) => s.tools.executeTool({ sessionId, toolName: 'add', arguments: { a: 1, b: 1 } });
    await call(s.sid);
    await call(s.sid);
    const d = await expectFailure(call(s.sid), Code.ResourceExhausted, ErrorType.RATE_LIMITED);
    const delayMs = Number(d.retryDelay!.seconds) * 1000 + d.retryDelay!.nanos / 1e6;
    expect(delayMs).toBeGreaterThan(0);
    expect(delayMs).toBeLessThanOrEqual(1_000_000);
    // Another session has its own bucket.
    const other = (await s.sessions.createSession({})).session!.id;
    await call(other);
  });

  it('should run a batch concurrently and answer in request order with per-item errors', async () => {
    let running = 0;
    let peak = 0;
    s = await setup({
      tools: [
        add,
        {
          name: 'wait',
          handler: async (args) => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((r) => setImmediate(r));
            running--;
            return args['i'];
          },
        },
      ],
    });
    const calls = [
      { toolName: 'add', arguments: { a: 1, b: 2 } },
      { toolName: 'nope' },
      { toolName: 'add', arguments: { a: 'x', b: 1 } },
      ...Array.from({ length: 6 }, (_, i) => ({ toolName: 'wait', arguments: { i } })),
    ];
    const res = await s.tools.executeTools({ sessionId: s.sid, calls, maxConcurrency: 3 });
    expect(res.results.map((r) => [r.code, r.outcome.case])).toEqual([
      [0, 'result'],
      [Code.NotFound, 'error'],
      [Code.InvalidArgument, 'error'],
      ...Array.from({ length: 6 }, () => [0, 'result']),
    ]);
    expect(value(res.results[0]!.outcome.value as Value)).toBe(3);
    expect(res.results.slice(3).map((r) => value(r.outcome.value as Value))).toEqual([0, 1, 2, 3, 4, 5]);
    expect((res.results[1]!.outcome.value as { type: number }).type).toBe(ErrorType.TOOL_NOT_FOUND);
    expect(res.results[0]!.metrics?.executedBy).toBe('host');
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    await expectFailure(
      s.tools.executeTools({ sessionId: s.sid, calls: Array.from({ length: 1001 }, () => ({ toolName: 'add' })) }),
      Code.InvalidArgument,
      ErrorType.INVALID_ARGUMENT,
    );
  });

  it('should drop session host tools with their session', async () => {
    s = await setup();
    await s.routes.tools.register({ name: 'mine', handler: () => 1 }, { sessionId: s.sid });
    await s.sessions.closeSession({ sessionId: s.sid });
    // The registry forgets them once the store reports the end.
    for (let i = 0; i < 100 && s.routes.tools.names({ sessionId: s.sid }).length > 0; i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(s.routes.tools.names({ sessionId: s.sid })).toEqual([]);
    await s.routes.tools.unregister('add');
    expect(s.routes.tools.names()).toEqual([]);
  });

  it('should refuse bad definitions and options with errors that name them', () => {
    expect(() => createBridgeRoutes({ tools: [{ name: '1bad', handler: () => 1 }] })).toThrow(/tool name must be/);
    expect(() => createBridgeRoutes({ tools: [{ name: 'x' } as unknown as HostToolDefinition] })).toThrow(/handler/);
    expect(() => createBridgeRoutes({ tools: [add, add] })).toThrow(/defined twice/);
    expect(() =>
      createBridgeRoutes({ tools: [{ name: 'm', metadata: { k: 'x'.repeat(1025) }, handler: () => 1 }] }),
    ).toThrow(/metadata.k/);
    expect(() =>
      createBridgeRoutes({ tools: [{ name: 'p', parameters: { type: 'objekt' }, handler: () => 1 }] }),
    ).toThrow(/parameters/);
    expect(() => createBridgeRoutes({ rateLimit: { callsPerSecond: 0 } })).toThrow(/rateLimit.callsPerSecond/);
    expect(() => createBridgeRoutes({ defaultToolTimeoutMs: -1 })).toThrow(/defaultToolTimeoutMs/);
    expect(() => createBridgeRoutes({ workerHeartbeatIntervalMs: 0 })).toThrow(/workerHeartbeatIntervalMs/);
  });

  it('should reject the ready promise when a tool of the tools option cannot be registered', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    await store.registerTool(null, { name: 'add', owner: 'someone-else' });
    const routes = createBridgeRoutes({ store, logger: silentLogger, tools: [add] });
    await expect(routes.tools.ready).rejects.toMatchObject({ type: 'AlreadyExists' });
    await routes.shutdown({ graceMs: 0 });
    await store.close();
    s = { close: async () => {} } as Setup;
  });
});
