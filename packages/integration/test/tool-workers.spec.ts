// Worker tools against a real `unified-bridge serve` process, over gRPC and Connect (seed 004:
// "End-to-End is King: the ultimate proof is a complete round-trip"; elixir crash recovery;
// concurrent sessions).
// Covers:
// - the full round trip client -> server -> worker in a SECOND PROCESS (test/fixtures/ts-worker.mjs,
//   serving with `serveTools`; over Connect it uses HTTP/1.1) -> back: results computed in the
//   worker's pid, an exact bigint, metrics naming the worker, a worker tool that reads the
//   caller's session variable, a stream in order with its totals, the worker's own ToolError;
// - a deadline reaches the worker: the call fails with DeadlineExceeded and the worker's handler is
//   aborted (it records that in a session variable we read back); the elapsed time is printed;
// - the worker process killed with SIGKILL mid-call: the caller gets Unavailable naming the
//   worker, the worker's tools disappear (ToolNotFound); the kill-to-Unavailable time is printed;
// - 5 concurrent sessions, each with its own worker serving the same tool name: every call lands
//   on its session's worker and reads its session's variable (no cross-session interference).
import { resolve } from 'node:path';
import { Code } from '@connectrpc/connect';
import { isBridgeError, type ToolContext } from '@unified-bridge/client';
import { Timings } from '@unified-bridge/testing';
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { bridgeError, PROTOCOLS, uniqueId, useClients, waitFor, type Protocol } from './support/helpers.js';
import { spawnHelper, stopHelpersAfterEach, type HelperProcess } from './support/processes.js';
import { HOST_TOOLS_ARGS, report } from './support/tools.js';

const TS_WORKER = resolve(__dirname, 'fixtures/ts-worker.mjs');

const bridge = useBridgeServer({ args: HOST_TOOLS_ARGS, logLevel: 'warn' });
const openClient = useClients(() => bridge.url);
stopHelpersAfterEach();

/** Spawns the Node worker process for `sessionId` and waits for its ready line. */
async function startWorker(sessionId: string, protocol: Protocol): Promise<{ proc: HelperProcess; workerId: string }> {
  const proc = spawnHelper(process.execPath, [TS_WORKER, bridge.url, sessionId, protocol]);
  const ready = await proc.next<{ workerId: string; pid: number }>('ready');
  return { proc, workerId: ready.workerId };
}

describe.each(PROTOCOLS)('worker tools over %s', (protocol) => {
  it('should make the full round trip through a worker in a second process', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('worker-rt') });
    const big = 2n ** 62n + 1n;
    await session.register('secret', 'integer', big);
    const { proc, workerId } = await startWorker(session.id, protocol);

    const specs = await session.tools.list({ fresh: true });
    const mul = specs.find((t) => t.name === 'ts_mul');
    expect(mul).toMatchObject({ owner: workerId, global: false, streaming: false });
    expect(specs.find((t) => t.name === 'ts_countdown')?.streaming).toBe(true);
    expect(specs.find((t) => t.name === 'add')?.owner).toBe('host'); // host tools are there too

    const pid = await session.tools.call<number>('ts_pid');
    expect(pid).toBe(proc.pid);
    expect(pid).not.toBe(process.pid);
    expect(pid).not.toBe(bridge.pid);

    const { result, metrics } = await session.tools.callWithMetrics('ts_mul', { a: 3037000499, b: 3037000499 });
    expect(result).toBe(3037000499n * 3037000499n); // beyond 2^53: exact, a bigint
    expect(metrics.executedBy).toBe(workerId);
    expect(await session.tools.call('ts_read_var', { name: 'secret' })).toBe(big);

    const stream = session.tools.stream<number>('ts_countdown', { from: 3 });
    const chunks: number[] = [];
    for await (const n of stream) chunks.push(n);
    expect(chunks).toEqual([3, 2, 1]);
    expect(stream.totalChunks).toBe(3);
    expect(stream.metrics?.executedBy).toBe(workerId);

    const err = await bridgeError(session.tools.call('ts_fail'), 'ToolError');
    expect(err).toMatchObject({ toolErrorType: 'ValidationError', toolName: 'ts_fail' });
    expect(err.message).toContain('Invalid input from the worker');
    expect(err.details.field).toBe('a');

    await bridgeError(session.tools.call('ts_mul', { a: 'x', b: 1 }), 'ValidationError');
    expect(await proc.stop()).toEqual({ code: 0, signal: null }); // exits by itself when stdin closes
    await waitFor('the worker tools are gone', async () => {
      const names = (await session.tools.list({ fresh: true })).map((t) => t.name);
      return !names.includes('ts_mul');
    });
  });

  it("should abort the worker's handler at the caller's deadline", async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('worker-deadline') });
    const { proc } = await startWorker(session.id, protocol);
    const key = uniqueId('hang').replace(/-/g, '_');
    const timings = new Timings(`${protocol} worker tool with a 200 ms deadline`);
    const err = await timings.time(() => bridgeError(session.tools.call('ts_hang', { key }, { timeoutMs: 200 })));
    expect(err.type).toBe('DeadlineExceeded');
    expect(err.code).toBe(Code.DeadlineExceeded);
    await proc.next('aborted');
    const reason = await session.get<string>(`abort_${key}`, { fresh: true });
    expect(typeof reason).toBe('string');
    report(`${timings.summary()} (call -> DeadlineExceeded); worker handler aborted: "${reason}"`);
  });

  it('should fail a call in flight with Unavailable when the worker process is killed', async () => {
    const client = openClient({ protocol });
    await using session = await client.createSession({ id: uniqueId('worker-kill') });
    const { proc, workerId } = await startWorker(session.id, protocol);
    const key = uniqueId('block');
    const call = session.tools.call('ts_block', { key });
    call.catch(() => undefined); // observed below
    await proc.next('call'); // the worker is running the handler
    const timings = new Timings(`${protocol} SIGKILL of the worker -> Unavailable`);
    const err = await timings.time(async () => {
      proc.child.kill('SIGKILL');
      return bridgeError(call);
    });
    expect(err.type).toBe('Unavailable');
    expect(err.code).toBe(Code.Unavailable);
    expect(err.details.worker).toBe(workerId);
    expect((await proc.exited).signal).toBe('SIGKILL');
    await bridgeError(session.tools.call('ts_pid'), 'ToolNotFound');
    report(timings.summary());
  });

  it('should keep 5 concurrent sessions and their workers apart', async () => {
    const caller = openClient({ protocol });
    const workerClient = openClient({ protocol, ...(protocol === 'connect' ? { httpVersion: '1.1' as const } : {}) });
    const sessions = await Promise.all(
      Array.from({ length: 5 }, async (_, n) => {
        const s = await caller.createSession({ id: uniqueId(`worker-conc-${n}`) });
        await s.register('owner', 'string', `owner-${n}`);
        return s;
      }),
    );
    const workers = sessions.map((s, n) =>
      workerClient.serveTools(s.id, {
        ident: async (_args: Record<string, unknown>, ctx: ToolContext) => ({
          worker: n,
          session: ctx.sessionId,
          owner: await ctx.session.get('owner', { fresh: true }),
        }),
      }),
    );
    try {
      await Promise.all(workers.map((w) => w.ready));
      const outcomes = await Promise.allSettled(
        sessions.map(async (s, n) => {
          for (let i = 0; i < 10; i++) {
            const { result, metrics } = await s.tools.callWithMetrics('ident');
            expect(result).toEqual({ worker: n, session: s.id, owner: `owner-${n}` });
            expect(metrics.executedBy).toBe(workers[n]!.workerId);
          }
          return (await s.tools.list({ fresh: true })).filter((t) => t.name === 'ident').length;
        }),
      );
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(failures).toEqual([]);
      // Each session sees exactly one ident tool: its own worker's.
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : -1))).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    }
    const after = await bridgeError(sessions[0]!.tools.call('ident'));
    expect(isBridgeError(after, 'SessionNotFound') || isBridgeError(after, 'ToolNotFound')).toBe(true);
  });
});
