// Host tools of a real `unified-bridge serve --tools-module test/fixtures/host-tools.mjs` process,
// called with @unified-bridge/client over gRPC and Connect (seed 004: BridgeServer integration
// tests, failure modes, resource limits).
// Covers:
// - success with metrics (durationMs, executedBy "host"), the tool list and a callable proxy;
// - a tool's own error: ToolError with toolErrorType "ValidationError", message and details.field;
// - an unknown tool (ToolNotFound) and invalid arguments (ValidationError with field violations);
// - streaming in order with a final chunk (count_to_n -> [1, 2, 3], totals and metrics);
// - a connection cut mid-stream by a FaultProxy: the chunks received so far, then Unavailable, and
//   the tool is aborted on the server;
// - a 10 s tool called with a 100 ms deadline: DeadlineExceeded, and the handler was aborted (the
//   tool records it; read back through the `probe` tool); the elapsed time is printed;
// - callWithRetry after a transient failure: an attempt that timed out (seed: test_timeout_recovery)
//   and a connection reset by a FaultProxy (Unavailable); never after a ToolError;
// - calls after the session was closed: SessionNotFound;
// - 5 concurrent sessions calling session-aware host tools: no cross-session interference;
// - per-session rate limit (a server with --rate-limit 1 --rate-limit-burst 1): RateLimited with a
//   retry delay, callWithRetry waits it out and succeeds;
// - a 9 MB argument accepted and an 11 MB one rejected ("message too large") under a 10 MiB limit;
// - 10,000 calls with the server's heap growth bounded (a leak check; the figure is printed).
import { Code } from '@connectrpc/connect';
import { isBridgeError, type BridgeClient } from '@unified-bridge/client';
import { FaultProxy, Timings } from '@unified-bridge/testing';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients, waitFor } from './support/helpers.js';
import { HOST_TOOLS_ARGS, probe, report } from './support/tools.js';

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const bridge = useBridgeServer({
  args: HOST_TOOLS_ARGS,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  execArgv: ['--expose-gc'],
  logLevel: 'warn',
});
const openClient = useClients(() => bridge.url);

describe.each(PROTOCOLS)('host tools over %s', (protocol) => {
  it('should call a tool and report its metrics', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-ok') });
    const { result, metrics } = await session.tools.callWithMetrics('add', { a: 5, b: 37 });
    expect(result).toBe(42);
    expect(metrics.executedBy).toBe('host');
    expect(Number.isFinite(metrics.durationMs)).toBe(true);
    expect(metrics.durationMs).toBeGreaterThanOrEqual(0);

    const add = session.tools.proxy<number>('add');
    expect(await add({ a: 20, b: 22 })).toBe(42);
    expect(await add.spec).toMatchObject({ name: 'add', owner: 'host', global: true, streaming: false });
    const names = (await session.tools.list()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['add', 'count_to_n', 'slow', 'probe']));
    expect(names).toEqual([...names].sort());
    expect((await session.tools.spec('count_to_n')).streaming).toBe(true);
  });

  it("should fail with the tool's own error type, message and details", async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-err') });
    const err = await bridgeError(session.tools.call('add', { a: -5, b: 10 }), 'ToolError');
    expect(err.toolName).toBe('add');
    expect(err.toolErrorType).toBe('ValidationError');
    expect(err.message).toContain('Invalid input');
    expect(err.details).toMatchObject({ field: 'a', reason: 'negative' });
    expect(err.code).toBe(Code.Unknown);
    // The server keeps serving the session.
    expect(await session.tools.call('add', { a: 5, b: 10 })).toBe(15);
  });

  it('should fail an unknown tool with ToolNotFound', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-404') });
    const err = await bridgeError(session.tools.call('missing_tool'), 'ToolNotFound');
    expect(err.code).toBe(Code.NotFound);
    expect(err.toolName).toBe('missing_tool');
    await bridgeError(session.tools.spec('missing_tool'), 'ToolNotFound');
    const stream = session.tools.stream('missing_stream', {});
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toMatchObject({ type: 'ToolNotFound', toolName: 'missing_stream' });
  });

  it('should reject invalid arguments with a ValidationError per field', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-args') });
    const err = await bridgeError(session.tools.call('add', { a: 'not_a_number' }), 'ValidationError');
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.toolName).toBe('add');
    // One violation per problem, `field` a JSON pointer into the arguments.
    expect(err.fieldViolations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'arguments/a', constraint: 'type', expected: 'integer' }),
        expect.objectContaining({
          field: 'arguments',
          constraint: 'required',
          description: expect.stringContaining("'b'"),
        }),
      ]),
    );
    const extra = await bridgeError(session.tools.call('add', { a: 1, b: 2, c: 3 }), 'ValidationError');
    expect(extra.fieldViolations).toEqual([expect.objectContaining({ constraint: 'additionalProperties' })]);
    // Not JSON at all: refused locally, naming the JSON pointer, before any round trip.
    const local = await bridgeError(session.tools.call('add', { a: 1n, b: 2 }), 'ValidationError');
    expect(local.fieldViolations[0]?.field).toBe('/a');
  });

  it('should stream chunks in order and end with the totals', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-stream') });
    const stream = session.tools.stream<number>('count_to_n', { n: 3 });
    const chunks: number[] = [];
    for await (const n of stream) chunks.push(n);
    expect(chunks).toEqual([1, 2, 3]);
    expect(stream.totalChunks).toBe(3);
    expect(stream.metrics?.executedBy).toBe('host');

    const empty = session.tools.stream<number>('count_to_n', { n: 0 });
    for await (const n of empty) chunks.push(n);
    expect(empty.totalChunks).toBe(0);
    // A streaming tool called unary returns its chunks as an array.
    expect(await session.tools.call('count_to_n', { n: 4 })).toEqual([1, 2, 3, 4]);
  });

  it('should deliver the chunks received before a connection cut, then fail with Unavailable', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-cut') });
    await using proxy = await FaultProxy.start({ target: bridge.url });
    const proxied = openClient({ protocol, baseUrl: proxy.url }).session(session.id);
    const key = uniqueId('cut');
    const received: number[] = [];
    let failure: unknown;
    try {
      for await (const chunk of proxied.tools.stream<{ i: number }>('ticks_forever', { key, pad: 256 })) {
        received.push(chunk.i);
        // After 3 chunks, the next bytes from the server cut the connection (TCP reset).
        if (received.length === 3) proxy.setFault({ type: 'cut-after', bytes: 0, direction: 'downstream' });
      }
    } catch (err) {
      failure = err;
    }
    expect(isBridgeError(failure, 'Unavailable')).toBe(true);
    expect((failure as { toolName?: string }).toolName).toBe('ticks_forever');
    // The chunks received so far: 0, 1, 2, ... in order, none missing.
    expect(received.length).toBeGreaterThanOrEqual(3);
    expect(received).toEqual(received.map((_, i) => i));
    // The dead connection reached the tool on the server: its signal aborted.
    const rec = await waitFor('the streaming tool was aborted', async () => {
      const r = await probe(session, key);
      return r.aborted === 1 ? r : undefined;
    });
    expect(rec.started).toBe(1);
    report(`${protocol}: stream cut after ${received.length} chunks; tool aborted with "${rec.abortReason}"`);
  });

  it('should fail a 10 s tool at a 100 ms deadline with DeadlineExceeded and abort its handler', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-deadline') });
    const key = uniqueId('slow');
    const timings = new Timings(`${protocol} slow tool with a 100 ms deadline`);
    const err = await timings.time(() =>
      bridgeError(session.tools.call('slow', { key, ms: 10_000 }, { timeoutMs: 100 })),
    );
    expect(err.type).toBe('DeadlineExceeded');
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.toolName).toBe('slow');
    const rec = await waitFor('the slow handler was aborted', async () => {
      const r = await probe(session, key);
      return r.aborted === 1 ? r : undefined;
    });
    expect(rec).toMatchObject({ started: 1, aborted: 1, completed: 0 });
    report(`${timings.summary()} (call -> DeadlineExceeded); handler aborted: "${rec.abortReason}"`);
  });

  it('should retry an attempt that timed out and succeed (callWithRetry)', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-flaky') });
    const key = uniqueId('flaky');
    const waits: number[] = [];
    const result = await session.tools.callWithRetry<string>(
      'flaky',
      { key },
      { retries: 2, attemptTimeoutMs: 1500, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('success');
    expect(waits).toHaveLength(1);
    const rec = await probe(session, key);
    expect(rec).toMatchObject({ calls: 2, completed: 1 });
    await waitFor('the first attempt was aborted', async () => (await probe(session, key)).aborted === 1);
  });

  it('should retry a call that failed with Unavailable and succeed (callWithRetry)', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-unavail') });
    await using proxy = await FaultProxy.start({ target: bridge.url, faults: { type: 'reset' } });
    const proxied = openClient({ protocol, baseUrl: proxy.url }).session(session.id);
    const key = uniqueId('counted');
    const plain = await bridgeError(proxied.tools.call('counted', { key }), 'Unavailable');
    expect(plain.toolName).toBe('counted');

    const waits: number[] = [];
    const result = await proxied.tools.callWithRetry<number>(
      'counted',
      { key },
      {
        retries: 3,
        // The wait between attempts: the network heals while we wait.
        sleep: async (ms) => {
          waits.push(ms);
          proxy.clearFaults();
        },
      },
    );
    expect(result).toBe(1); // connections were reset on accept: the failed attempts never reached the tool
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect((await probe(session, key)).calls).toBe(1);
  });

  it('should not retry a ToolError', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('tool-noretry') });
    const waits: number[] = [];
    const err = await bridgeError(
      session.tools.callWithRetry('add', { a: -1, b: 1 }, { retries: 3, sleep: async (ms) => void waits.push(ms) }),
      'ToolError',
    );
    expect(err.toolErrorType).toBe('ValidationError');
    expect(waits).toEqual([]);
  });

  it('should fail calls in a closed session with SessionNotFound', async () => {
    const client = openClient({ protocol });
    const session = await client.createSession({ id: uniqueId('tool-closed') });
    expect(await session.tools.call('add', { a: 1, b: 1 })).toBe(2);
    await session.close();
    const other = openClient({ protocol }).session(session.id);
    const err = await bridgeError(other.tools.call('add', { a: 1, b: 1 }));
    expect(['SessionNotFound', 'SessionExpired']).toContain(err.type);
    expect(err.code).toBe(Code.NotFound);
    // The closed session object itself fails too (locally or from the server).
    const own = await bridgeError(session.tools.call('add', { a: 1, b: 1 }));
    expect(['SessionNotFound', 'SessionExpired']).toContain(own.type);
    const stream = other.tools.stream('count_to_n', { n: 2 });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toMatchObject({ type: expect.stringMatching(/^Session(NotFound|Expired)$/) });
  });

  it('should keep 5 concurrent sessions apart', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 5 }, async (_, n) => {
        const s = await openClient({ protocol }).createSession({ id: uniqueId(`tool-conc-${n}`) });
        await s.register('owner', 'string', `owner-${n}`);
        await s.register('counter', 'integer', 0);
        return s;
      }),
    );
    try {
      const outcomes = await Promise.allSettled(
        sessions.map(async (s, n) => {
          for (let i = 0; i < 10; i++) {
            expect(await s.tools.call('whoami')).toEqual({ session: s.id, owner: `owner-${n}` });
            expect(await s.tools.call('bump')).toBe(i + 1);
          }
          return s.get('counter', { fresh: true });
        }),
      );
      const errors = outcomes.filter((o) => o.status === 'rejected');
      expect(errors).toEqual([]);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined))).toEqual([10, 10, 10, 10, 10]);
    } finally {
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    }
  });
});

describe('message size under a 10 MiB limit', () => {
  const NINE_MB = 9 * 1024 * 1024;
  const ELEVEN_MB = 11 * 1024 * 1024;

  // Over HTTP/2 this needs the client's raised HTTP/2 session memory (`http2.maxSessionMemoryMb`,
  // default 64): with Node's default 10 MB the 11 MB call dies with NGHTTP2_ENHANCE_YOUR_CALM.
  it.each([
    ['grpc', '2'],
    ['connect', '2'],
    ['connect', '1.1'],
  ] as const)(
    'should accept a 9 MB argument and reject an 11 MB one over %s (HTTP/%s)',
    async (protocol, httpVersion) => {
      const client = openClient({ protocol, httpVersion });
      await using session = await client.createSession({ id: uniqueId('tool-size') });
      const nine = 'x'.repeat(NINE_MB);
      expect(await session.tools.call('length', { data: nine })).toBe(NINE_MB);
      const echoed = await session.tools.call<string>('echo', { data: nine });
      expect(echoed.length).toBe(NINE_MB);

      const err = await bridgeError(session.tools.call('length', { data: 'x'.repeat(ELEVEN_MB) }));
      expect(err.message.toLowerCase()).toContain('message too large');
      expect(['PayloadTooLarge', 'ResourceExhausted']).toContain(err.type);
      expect(err.code).toBe(Code.ResourceExhausted);
      // The server keeps serving the session and the connection.
      expect(await session.tools.call('add', { a: 1, b: 2 })).toBe(3);
    },
  );
});

describe('per-session rate limit (1 call/s, burst 1)', () => {
  const limited = useBridgeServer({ args: [...HOST_TOOLS_ARGS, '--rate-limit', '1', '--rate-limit-burst', '1'] });

  it.each(PROTOCOLS)(
    'should answer an immediate second call with RateLimited and a retry delay over %s',
    async (protocol) => {
      const client = openClient({ protocol, baseUrl: limited.url });
      await using session = await client.createSession({ id: uniqueId('tool-rate') });
      // Two calls at once: the bucket holds one token.
      const outcomes = await Promise.allSettled([
        session.tools.call('add', { a: 1, b: 1 }),
        session.tools.call('add', { a: 2, b: 2 }),
      ]);
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(1);
      const err = failed[0];
      if (!isBridgeError(err, 'RateLimited')) throw err;
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(err.retryDelayMs).toBeGreaterThan(0);
      expect(err.toolName).toBe('add');

      // callWithRetry waits (at least the server's retry delay) and succeeds. The waits are real.
      const waits: number[] = [];
      const sum = await session.tools.callWithRetry<number>(
        'add',
        { a: 3, b: 4 },
        {
          retries: 5,
          sleep: (ms) => {
            waits.push(ms);
            return new Promise((resolve) => setTimeout(resolve, ms));
          },
        },
      );
      expect(sum).toBe(7);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(waits.every((ms) => ms > 0)).toBe(true);
      report(
        `${protocol}: RateLimited retryDelayMs=${err.retryDelayMs}; callWithRetry waited ${waits.map((w) => Math.round(w)).join(', ')} ms`,
      );
    },
  );

  it('should count every call of a batch against the limit', async () => {
    const client = openClient({ protocol: 'grpc', baseUrl: limited.url });
    await using session = await client.createSession({ id: uniqueId('tool-rate-batch') });
    const results = await session.tools.callMany<number>([
      { name: 'add', args: { a: 1, b: 1 } },
      { name: 'add', args: { a: 2, b: 2 } },
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const limitedOne = results.find((r) => !r.ok);
    expect(limitedOne && !limitedOne.ok && limitedOne.error.type).toBe('RateLimited');
  });
});

describe('leak check: 10,000 calls', () => {
  interface Memory {
    gcExposed: boolean;
    heapUsed: number;
    rss: number;
    pid: number;
  }

  async function callMany(client: BridgeClient, sessionId: string, total: number, lanes: number): Promise<void> {
    const session = client.session(sessionId);
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < total) {
          const i = next++;
          const out = await session.tools.call<string>('simple', { i });
          if (out !== `iteration_${i}`) throw new Error(`call ${i} returned ${out}`);
        }
      }),
    );
  }

  // 10,500 round trips take about 20 s on a loaded 2-core machine: far more room than the
  // file-wide 60 s, so a busy CI run (three projects at once) cannot time it out.
  it('should keep the server heap bounded over 10,000 tool calls', async () => {
    const client = openClient({ protocol: 'grpc' });
    await using session = await client.createSession({ id: uniqueId('tool-leak') });
    await callMany(client, session.id, 500, 8); // warm up (JIT, pools)
    const before = await session.tools.call<Memory>('memory');
    expect(before.pid).toBe(bridge.pid);
    const timings = new Timings('10,000 calls');
    await timings.time(() => callMany(client, session.id, 10_000, 8));
    const after = await session.tools.call<Memory>('memory');
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    report(
      `server heap over 10,000 calls: ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB (growth ${mb(after.heapUsed - before.heapUsed)} MB), ` +
        `rss ${mb(before.rss)} -> ${mb(after.rss)} MB, gc exposed: ${after.gcExposed}; ${Math.round(timings.max)} ms in all`,
    );
    expect(after.gcExposed).toBe(true);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(100 * 1024 * 1024);
  }, 180_000);
});
