// Many calls in flight at once over real sockets: every call links its
// signal to the server's long-lived shutdown signals, which must not trip
// Node's "possible EventTarget memory leak" warning (10 listeners).
import { createClient } from '@connectrpc/connect';
import { SessionService, ToolService } from '@unified-bridge/proto';
import { startBridgeServer } from '../src/index.js';
import type { StartedBridgeServer } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { collectWarnings, transportsFor } from './helpers.js';
import { RawWorker } from './tool-helpers.js';

const CALLS = 50;
const CASES = ['gRPC over HTTP/2', 'Connect binary over HTTP/1.1', 'Connect binary over HTTP/2'];

/** Releases the calls of the `gate` tool once CALLS of them are waiting (all in flight at once). */
let waiting: (() => void)[] = [];
const gate = (): Promise<string> =>
  new Promise((resolve) => {
    waiting.push(() => resolve('ok'));
    if (waiting.length === CALLS) for (const release of waiting.splice(0)) release();
  });

describe('many calls in flight (real sockets)', () => {
  let server: StartedBridgeServer;
  let transports: ReturnType<typeof transportsFor>;
  let collected: ReturnType<typeof collectWarnings>;

  // A server per case: Node warns once per signal, so each case must start from fresh signals.
  beforeEach(async () => {
    waiting = [];
    collected = collectWarnings();
    server = await startBridgeServer({ logger: silentLogger, tools: [{ name: 'gate', handler: gate }] });
    transports = transportsFor(server.url);
  });
  afterEach(async () => {
    collected.stop();
    transports.close();
    await server.stop();
  });

  it.each(CASES)(`should serve ${CALLS} concurrent calls over %s without MaxListenersExceededWarning`, async (name) => {
    const { transport } = transports.cases.find((c) => c.name === name)!;
    const sessions = createClient(SessionService, transport);
    const tools = createClient(ToolService, transport);
    const sid = (await sessions.createSession({})).session!.id;
    // Host tool calls, all held in flight until the last one arrives.
    const held = await Promise.all(
      Array.from({ length: CALLS }, () => tools.executeTool({ sessionId: sid, toolName: 'gate' })),
    );
    expect(held.every((r) => r.result?.kind.value === 'ok')).toBe(true);
    // Worker tool calls: CALLS streams' worth of broker calls at once, answered once all arrived.
    const worker = new RawWorker(transport, {
      sessionId: sid,
      maxConcurrency: CALLS,
      tools: [{ name: 'w' }],
    });
    await worker.registered;
    const calls = Array.from({ length: CALLS }, () => tools.executeTool({ sessionId: sid, toolName: 'w' }));
    await worker.until(() => worker.calls.length === CALLS);
    await Promise.all(worker.calls.map((c) => worker.result(c.callId, 'done')));
    expect((await Promise.all(calls)).every((r) => r.result?.kind.value === 'done')).toBe(true);
    await worker.stop();
    // One ExecuteTools batch with every call in flight at once: each listens on the request's signal.
    const batch = await tools.executeTools({
      sessionId: sid,
      calls: Array.from({ length: CALLS }, () => ({ toolName: 'gate' })),
      maxConcurrency: CALLS,
    });
    expect(batch.results.map((r) => r.outcome.case)).toEqual(Array.from({ length: CALLS }, () => 'result'));
    await Promise.all(Array.from({ length: CALLS }, () => sessions.getSession({ sessionId: sid })));
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(collected.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
      [],
    );
  });
});
