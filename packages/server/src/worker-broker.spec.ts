// Worker tools through createRouterTransport (no socket): a raw
// ToolWorkerService client on the same router plays the worker.
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType, SessionService, ToolService } from '@unified-bridge/proto';
import type { Value } from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import { fromWire } from '@unified-bridge/types';
import { expectFailure, FakeClock } from '../test/helpers.js';
import { RawWorker, rejection } from '../test/tool-helpers.js';
import { silentLogger } from './logger.js';
import { createBridgeRoutes } from './routes.js';
import type { BridgeRoutes, BridgeRoutesOptions } from './routes.js';
import type { Invocation } from './tool-invocation.js';
import { WorkerBroker } from './worker-broker.js';

const value = (v: Value | undefined): unknown => {
  const r = fromWire(v!);
  if (!r.ok) throw new Error('bad value');
  return r.value;
};

const echo = {
  name: 'echo',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

interface Setup {
  routes: BridgeRoutes;
  transport: Transport;
  tools: Client<typeof ToolService>;
  sessions: Client<typeof SessionService>;
  sid: string;
  workers: RawWorker[];
  worker(options: ConstructorParameters<typeof RawWorker>[1]): RawWorker;
  close(): Promise<void>;
}

async function setup(options: BridgeRoutesOptions = {}): Promise<Setup> {
  const routes = createBridgeRoutes({ logger: silentLogger, ...options });
  const transport = createRouterTransport(routes);
  const sessions = createClient(SessionService, transport);
  const { session } = await sessions.createSession({});
  const workers: RawWorker[] = [];
  return {
    routes,
    transport,
    tools: createClient(ToolService, transport),
    sessions,
    sid: session!.id,
    workers,
    worker(o) {
      const w = new RawWorker(transport, o);
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await routes.shutdown({ graceMs: 0 });
    },
  };
}

/** Jest fakes these not: only the broker's heartbeat timer (setInterval) and its clock (Date) are faked. */
const FAKE_ONLY_INTERVALS_AND_DATE: FakeableAPI[] = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setTimeout',
  'clearTimeout',
];

describe('ToolWorkerService and the worker broker (router transport)', () => {
  let s: Setup;
  afterEach(async () => {
    jest.useRealTimers();
    await s?.close();
  });

  it('should register a worker, list its tools and route calls to it with the deadline', async () => {
    s = await setup();
    const w = s.worker({
      sessionId: s.sid,
      tools: [echo],
      handler: (call) => ({ echoed: call.arguments?.['text'] }),
    });
    const reg = await w.registered;
    expect(reg.workerId).toMatch(/^worker_/);
    expect(reg.heartbeatIntervalMs).toBe(5000);
    const listed = await s.tools.listTools({ sessionId: s.sid });
    expect(listed.tools.map((t) => [t.name, t.owner, t.global])).toEqual([['echo', reg.workerId, false]]);
    const res = await s.tools.executeTool(
      { sessionId: s.sid, toolName: 'echo', arguments: { text: 'hi' } },
      { timeoutMs: 5000 },
    );
    expect(value(res.result)).toEqual({ echoed: 'hi' });
    expect(res.metrics?.executedBy).toBe(reg.workerId);
    const call = w.calls[0]!;
    expect([call.toolName, call.sessionId, call.streaming]).toEqual(['echo', s.sid, false]);
    expect(call.timeoutMs).toBeGreaterThan(0);
    expect(call.timeoutMs).toBeLessThanOrEqual(5000);
    // Arguments are validated before the worker sees them.
    await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: {} }),
      Code.InvalidArgument,
      ErrorType.VALIDATION_ERROR,
    );
    expect(w.calls).toHaveLength(1);
  });

  it('should pass a worker-reported ToolError through and ignore late or duplicate results', async () => {
    s = await setup();
    const w = s.worker({ tools: [{ name: 'boom' }] }); // global
    await w.registered;
    const pending = s.tools.executeTool({ sessionId: s.sid, toolName: 'boom' });
    const call = await w.call();
    expect(await w.fail(call.callId, 'Overheated', 'too hot', { celsius: '90' })).toBe(true);
    const d = await expectFailure(pending, Code.Unknown, ErrorType.TOOL_ERROR);
    expect([d.toolErrorType, d.message, d.details]).toEqual(['Overheated', 'too hot', { celsius: '90' }]);
    expect(await w.result(call.callId, 1)).toBe(false); // duplicate
    expect(await w.result('call_unknown', 1)).toBe(false);
    const listed = await s.tools.listTools({ sessionId: s.sid });
    expect(listed.tools[0]?.global).toBe(true);
  });

  it('should stream worker chunks in order and end with totals', async () => {
    s = await setup();
    const w = s.worker({ sessionId: s.sid, tools: [{ name: 'count', streaming: true }] });
    await w.registered;
    const got: unknown[] = [];
    const done = (async () => {
      for await (const m of s.tools.executeToolStream({ sessionId: s.sid, toolName: 'count' })) {
        got.push(
          m.payload.case === 'chunk'
            ? [m.sequence, value(m.payload.value)]
            : [m.sequence, m.payload.value?.totalChunks],
        );
      }
    })();
    const call = await w.call();
    expect(call.streaming).toBe(true);
    expect(await w.chunk(call.callId, 0, 'a')).toBe(true);
    expect(await w.chunk(call.callId, 1, 'b')).toBe(true);
    expect(await w.chunk(call.callId, 1, 'b')).toBe(true); // a repeated report is ignored
    await expect(w.chunk(call.callId, 5, 'gap')).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(await w.result(call.callId, undefined)).toBe(true);
    await done;
    expect(got).toEqual([
      [0n, 'a'],
      [1n, 'b'],
      [2n, 2n],
    ]);
    expect(await w.chunk(call.callId, 2, 'late')).toBe(false);
  });

  it('should send cancel to the worker when the caller cancels or the deadline passes', async () => {
    // The default deadline leaves room for the call to reach the worker on a loaded machine (it must see it).
    s = await setup({ defaultToolTimeoutMs: 500 });
    const w = s.worker({ sessionId: s.sid, tools: [{ name: 'slow' }] });
    await w.registered;
    const ctrl = new AbortController();
    const cancelled = rejection(s.tools.executeTool({ sessionId: s.sid, toolName: 'slow' }, { signal: ctrl.signal }));
    const first = await w.call(0);
    ctrl.abort();
    await cancelled; // the client reports its own abort
    await w.until(() => w.cancels.length === 1);
    expect(w.cancels[0]?.callId).toBe(first.callId);
    // The default deadline (500 ms here): DEADLINE_EXCEEDED for the caller, cancel for the worker.
    await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'slow' }),
      Code.DeadlineExceeded,
      ErrorType.DEADLINE_EXCEEDED,
    );
    const second = await w.call(1);
    expect(second.timeoutMs).toBeLessThanOrEqual(500);
    await w.until(() => w.cancels.length === 2);
    expect(w.cancels[1]?.callId).toBe(second.callId);
    expect(await w.result(second.callId, 'late')).toBe(false);
  });

  it('should fail in-flight calls with UNAVAILABLE naming the worker when it disconnects, and drop its tools', async () => {
    s = await setup();
    const w = s.worker({ sessionId: s.sid, workerId: 'w-crash', tools: [echo] });
    await w.registered;
    const pending = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    await w.call();
    await w.stop();
    const d = await expectFailure(pending, Code.Unavailable, ErrorType.UNAVAILABLE);
    expect(d.message).toContain('w-crash');
    expect(d.details['worker']).toBe('w-crash');
    await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } }),
      Code.NotFound,
      ErrorType.TOOL_NOT_FOUND,
    );
    expect((await s.tools.listTools({ sessionId: s.sid })).tools).toEqual([]);
  });

  it('should drop a worker that stops answering heartbeats', async () => {
    // The broker's heartbeat timer and its clock (Date) are faked: time moves
    // only when the test says so, and each step waits for the events it causes.
    jest.useFakeTimers({ doNotFake: FAKE_ONLY_INTERVALS_AND_DATE });
    const I = 1000;
    s = await setup({ workerHeartbeatIntervalMs: I, workerMissedHeartbeats: 2 });
    const silent = s.worker({ sessionId: s.sid, workerId: 'w-silent', tools: [echo], heartbeats: false });
    expect((await silent.registered).heartbeatIntervalMs).toBe(I);
    const pending = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    await silent.call();
    // Two missed intervals are tolerated (pinged each time)...
    jest.advanceTimersByTime(I);
    await silent.until(() => silent.pings === 1);
    jest.advanceTimersByTime(I);
    await silent.until(() => silent.pings === 2);
    expect((await s.tools.listTools({ sessionId: s.sid })).tools.map((t) => t.owner)).toEqual(['w-silent']);
    // ...the third drops the worker.
    jest.advanceTimersByTime(I);
    const d = await expectFailure(pending, Code.Unavailable, ErrorType.UNAVAILABLE);
    expect(d.message).toBe('worker w-silent missed 2 heartbeats');
    expect(silent.pings).toBe(2);
    const end = await silent.ended;
    expect(end?.code).toBe(Code.Unavailable);
    await expect(silent.client.workerHeartbeat({ workerId: 'w-silent' })).rejects.toMatchObject({
      code: Code.Unavailable,
    });
    // A worker that answers pings stays, well past the 2 intervals it could miss.
    const alive = s.worker({ sessionId: s.sid, tools: [echo], handler: () => 'ok' });
    await alive.registered;
    for (let k = 1; k <= 5; k++) {
      jest.advanceTimersByTime(I);
      await alive.until(() => alive.beats === k); // its heartbeat reached the broker before time moves on
    }
    const res = await s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    expect(value(res.result)).toBe('ok');
  });

  it('should share the calls of one tool among its workers (least busy, ties round-robin)', async () => {
    s = await setup();
    const a = s.worker({ sessionId: s.sid, workerId: 'w-a', tools: [echo] });
    const b = s.worker({ sessionId: s.sid, workerId: 'w-b', tools: [echo] });
    await Promise.all([a.registered, b.registered]);
    const call = (text: string) => s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text } });
    // Two calls in flight: one each (round-robin among idle workers).
    const p1 = call('1');
    const p2 = call('2');
    await a.call(0);
    await b.call(0);
    // a finishes; the next call goes to a (b is busier).
    await a.result(a.calls[0]!.callId, 'a1');
    expect(value((await p1).result)).toBe('a1');
    const p3 = call('3');
    await a.call(1);
    expect(b.calls).toHaveLength(1);
    await a.result(a.calls[1]!.callId, 'a2');
    await b.result(b.calls[0]!.callId, 'b1');
    expect([value((await p2).result), value((await p3).result)]).toEqual(['b1', 'a2']);
    // When one leaves, the other keeps the tool (and becomes its owner).
    await a.stop();
    const listed = await s.tools.listTools({ sessionId: s.sid });
    expect(listed.tools.map((t) => [t.name, t.owner])).toEqual([['echo', 'w-b']]);
    const p4 = call('4');
    await b.call(1);
    await b.result(b.calls[1]!.callId, 'b2');
    expect(value((await p4).result)).toBe('b2');
  });

  it('should queue calls beyond max_concurrency until a slot frees', async () => {
    s = await setup();
    const w = s.worker({ sessionId: s.sid, tools: [echo], maxConcurrency: 1 });
    await w.registered;
    const p1 = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: '1' } });
    const p2 = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: '2' } });
    const c1 = await w.call(0);
    await new Promise((r) => setImmediate(r));
    expect(w.calls).toHaveLength(1);
    await w.result(c1.callId, 1);
    const c2 = await w.call(1);
    await w.result(c2.callId, 2);
    expect([value((await p1).result), value((await p2).result)]).toEqual([1, 2]);
  });

  it('should end the workers of a closed session with NOT_FOUND SessionNotFound', async () => {
    s = await setup();
    const w = s.worker({ sessionId: s.sid, workerId: 'w-s', tools: [echo] });
    await w.registered;
    const pending = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    await w.call();
    await s.sessions.closeSession({ sessionId: s.sid });
    const end = await w.ended;
    expect([end?.code, end?.findDetails(ErrorDetailSchema)[0]?.type]).toEqual([
      Code.NotFound,
      ErrorType.SESSION_NOT_FOUND,
    ]);
    const d = await expectFailure(pending, Code.Unavailable, ErrorType.UNAVAILABLE);
    expect(d.message).toContain('w-s');
    // Serving an unknown session fails the same way.
    const late = s.worker({ sessionId: s.sid, tools: [echo] });
    const err = await late.ended;
    expect(err?.code).toBe(Code.NotFound);
  });

  it('should replace a worker that reconnects with the same id', async () => {
    s = await setup();
    const old = s.worker({ sessionId: s.sid, workerId: 'w-1', tools: [echo] });
    await old.registered;
    const pending = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    await old.call();
    const fresh = s.worker({ sessionId: s.sid, workerId: 'w-1', tools: [echo], handler: () => 'fresh' });
    await fresh.registered;
    expect((await old.ended)?.code).toBe(Code.Unavailable);
    expect((await rejection(pending)).code).toBe(Code.Unavailable);
    const res = await s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    expect(value(res.result)).toBe('fresh');
  });

  it('should refuse bad worker registrations', async () => {
    s = await setup({ tools: [{ name: 'hosted', handler: () => 1 }] });
    const cases: [ConstructorParameters<typeof RawWorker>[1], Code][] = [
      [{ sessionId: s.sid, tools: [] }, Code.InvalidArgument],
      [{ sessionId: s.sid, tools: [{ name: '9lives' }] }, Code.InvalidArgument],
      [{ sessionId: s.sid, tools: [{ name: 'x', parameters: { type: 'nope' } }] }, Code.InvalidArgument],
      [{ sessionId: s.sid, tools: [{ name: 'x' }, { name: 'x' }] }, Code.InvalidArgument],
      [{ sessionId: s.sid, workerId: 'host', tools: [{ name: 'x' }] }, Code.InvalidArgument],
      [{ sessionId: s.sid, tools: [{ name: 'hosted' }] }, Code.AlreadyExists],
      [{ sessionId: s.sid, tools: [{ name: 'm', metadata: { k: 'v'.repeat(1025) } }] }, Code.InvalidArgument],
    ];
    for (const [o, code] of cases) {
      const w = s.worker(o);
      expect([o.tools.map((t) => t.name), (await w.ended)?.code]).toEqual([o.tools.map((t) => t.name), code]);
    }
    // A second worker of a tool must announce the same parameters.
    const a = s.worker({ sessionId: s.sid, tools: [echo] });
    await a.registered;
    const b = s.worker({ sessionId: s.sid, tools: [{ name: 'echo' }] });
    expect((await b.ended)?.code).toBe(Code.AlreadyExists);
  });

  it('should end worker streams with UNAVAILABLE at shutdown', async () => {
    s = await setup();
    const w = s.worker({ sessionId: s.sid, tools: [echo] });
    await w.registered;
    await s.routes.shutdown({ graceMs: 0 });
    const end = await w.ended;
    expect([end?.code, end?.rawMessage]).toEqual([Code.Unavailable, 'server shutting down']);
  });

  it('should answer new calls with ToolNotFound from the tick its last worker leaves, before the store catches up', async () => {
    /** A store whose tool removals wait for the test: the window between the stream's end and the store update. */
    class GatedStore extends MemoryStore {
      gate: Promise<void> = Promise.resolve();
      onUnregister: () => void = () => {};
      onUnregistered: () => void = () => {};
      override async unregisterTool(sessionId: string | null, name: string, owner: string): Promise<void> {
        this.onUnregister();
        await this.gate;
        await super.unregisterTool(sessionId, name, owner);
        this.onUnregistered();
      }
    }
    const store = new GatedStore({ sweepIntervalMs: 0 });
    s = await setup({ store });
    const w = s.worker({ sessionId: s.sid, workerId: 'w-leaving', tools: [echo] });
    await w.registered;
    const inFlight = s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } });
    await w.call();
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    const unregistering = new Promise<void>((resolve) => (store.onUnregister = resolve));
    const unregistered = new Promise<void>((resolve) => (store.onUnregistered = resolve));
    await w.stop();
    await unregistering;
    // The store still has the tool, but nothing serves it any more.
    expect((await store.getTool(s.sid, 'echo')).owner).toBe('w-leaving');
    const d = await expectFailure(
      s.tools.executeTool({ sessionId: s.sid, toolName: 'echo', arguments: { text: 'x' } }),
      Code.NotFound,
      ErrorType.TOOL_NOT_FOUND,
    );
    expect(d.details).toEqual({ tool: 'echo', session: s.sid });
    // The call it had accepted fails with UNAVAILABLE naming it.
    expect((await expectFailure(inFlight, Code.Unavailable, ErrorType.UNAVAILABLE)).details['worker']).toBe(
      'w-leaving',
    );
    release();
    await unregistered;
    await expect(store.getTool(s.sid, 'echo')).rejects.toMatchObject({ type: 'ToolNotFound' });
    await s.close();
    await store.close();
  });

  it("should keep a worker's session alive: its heartbeats slide the session's idle TTL", async () => {
    const clock = new FakeClock();
    class CountingStore extends MemoryStore {
      touchedUntil = 0;
      onTouch: () => void = () => {};
      override async touchSession(sessionId: string) {
        const r = await super.touchSession(sessionId);
        this.touchedUntil = Math.max(this.touchedUntil, r.expiresAt);
        this.onTouch();
        return r;
      }
    }
    const store = new CountingStore({ clock, sweepIntervalMs: 0 });
    // The broker's heartbeat timer and clock are faked too (the store has its own): no race with the scheduler.
    jest.useFakeTimers({ doNotFake: FAKE_ONLY_INTERVALS_AND_DATE });
    const I = 1000;
    s = await setup({ store, workerHeartbeatIntervalMs: I });
    const { session } = await s.sessions.createSession({ ttlSeconds: 1 });
    const sid = session!.id;
    const expiresAt = async (): Promise<number> =>
      (await store.listSessions()).sessions.find((x) => x.id === sid)!.expiresAt; // listing does not slide TTLs
    const w = s.worker({ sessionId: sid, tools: [echo], handler: () => 'still here' });
    await w.registered;
    const before = await expiresAt();
    clock.advance(900); // 100 ms (fake) left of the 1 s TTL
    // The next ping's heartbeat touches the session (throttle: half the TTL, 500 ms, has passed on the broker's clock).
    const touched = new Promise<void>((resolve) => (store.onTouch = resolve));
    jest.advanceTimersByTime(I);
    await touched;
    expect(store.touchedUntil).toBeGreaterThanOrEqual(before + 900);
    expect(await expiresAt()).toBeGreaterThanOrEqual(before + 900);
    clock.advance(900); // past the TTL the session had before the heartbeat
    expect(store.sweepExpired()).toBe(0);
    const res = await s.tools.executeTool({ sessionId: sid, toolName: 'echo', arguments: { text: 'x' } });
    expect(value(res.result)).toBe('still here');
    await s.close();
    await store.close();
  });

  it('should not touch the session more than once per heartbeat interval', async () => {
    const store = new (class extends MemoryStore {
      touches = 0;
      override async touchSession(sessionId: string) {
        this.touches++;
        return super.touchSession(sessionId);
      }
    })({ sweepIntervalMs: 0 });
    s = await setup({ store, workerHeartbeatIntervalMs: 60_000 });
    const w = s.worker({ sessionId: s.sid, tools: [echo], heartbeats: false });
    const { workerId } = await w.registered;
    for (let i = 0; i < 10; i++) await w.client.workerHeartbeat({ workerId });
    expect(store.touches).toBe(0); // connecting used the session moments ago: within the interval
    // A global worker has no session to touch.
    const g = s.worker({ tools: [{ name: 'global_echo' }], heartbeats: false });
    const gid = (await g.registered).workerId;
    await g.client.workerHeartbeat({ workerId: gid });
    expect(store.touches).toBe(0);
    await s.close();
    await store.close();
  });
});

describe('WorkerBroker (direct)', () => {
  it('should hand the slot on to the next waiter when a call is aborted between getting the slot and being sent', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    const broker = new WorkerBroker({ store, logger: silentLogger, heartbeatIntervalMs: 60_000, missedHeartbeats: 3 });
    try {
      const { id: sid } = await store.createSession();
      const spec = { name: 'echo', description: '', parameters: undefined, streaming: false, metadata: {} };
      const worker = await broker.connect({
        workerId: 'w-1',
        sessionId: sid,
        principal: undefined,
        maxConcurrency: 1,
        tools: [spec],
      });
      const tool = await store.getTool(sid, 'echo');
      const invocation = (callId: string, signal: AbortSignal): Invocation => ({
        callId,
        sessionId: sid,
        tool,
        args: {},
        streaming: false,
        signal,
        deadline: Date.now() + 60_000,
        requestHeader: new Headers(),
        emit: () => Promise.resolve(),
      });
      const never = new AbortController().signal;
      const a = broker.call(invocation('call_a', never));
      const bCtrl = new AbortController();
      const b = rejection(broker.call(invocation('call_b', bCtrl.signal)));
      const c = broker.call(invocation('call_c', never));
      c.catch(() => {}); // awaited below; closing the broker early must not crash the run
      await new Promise((r) => setImmediate(r));
      expect([...worker.calls.keys()]).toEqual(['call_a']); // b and c wait for the only slot
      // a ends: the slot goes to b, whose caller gives up in the same tick, before b is sent.
      const ok = { kind: { case: 'intValue', value: 1n } } as Value;
      expect(broker.reportResult('w-1', undefined, 'call_a', { case: 'result', value: ok })).toBe(true);
      bCtrl.abort(new Error('caller gave up'));
      await a;
      expect((await b).rawMessage).toBe('caller gave up');
      // The slot b did not use goes to c.
      await new Promise((r) => setImmediate(r));
      expect([...worker.calls.keys()]).toEqual(['call_c']);
      expect(broker.reportResult('w-1', undefined, 'call_c', { case: 'result', value: ok })).toBe(true);
      expect((await c).result).toBe(ok);
    } finally {
      await broker.close(new ConnectError('test over', Code.Unavailable));
      await store.close();
    }
  });
});
