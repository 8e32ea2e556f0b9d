// Integration tests of @unified-bridge/client against a real server
// (startBridgeServer on port 0, in-process, real sockets and HTTP/2).
import * as net from 'node:net';
import type { Interceptor } from '@connectrpc/connect';
import { startBridgeServer, type StartedBridgeServer } from '@unified-bridge/server';
import {
  createBridgeClient,
  isBridgeError,
  type BridgeClient,
  type BridgeClientOptions,
  type BridgeProtocol,
  type Session,
  type VariableEvent,
} from '../src/index.js';
import { setCacheClockForTesting } from '../src/cache.js';
import { eventually } from './support/eventually.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const serverBase = { port: 0, logger: silent } as const;

function counter(): { interceptor: Interceptor; count: (method: string) => number } {
  const counts = new Map<string, number>();
  return {
    interceptor: (next) => (req) => {
      counts.set(req.method.name, (counts.get(req.method.name) ?? 0) + 1);
      return next(req);
    },
    count: (m) => counts.get(m) ?? 0,
  };
}

describe('client against a real server', () => {
  let server: StartedBridgeServer;
  const clients: BridgeClient[] = [];
  let sessionSeq = 0;

  function client(opts: Partial<BridgeClientOptions> = {}): BridgeClient {
    const c = createBridgeClient({ baseUrl: server.url, protocol: 'grpc', retry: { initialDelayMs: 5 }, ...opts });
    clients.push(c);
    return c;
  }

  const newId = (): string => `it-${process.pid}-${++sessionSeq}`;

  beforeAll(async () => {
    server = await startBridgeServer({
      ...serverBase,
      maxMessageBytes: 64 * 1024,
      limits: { watchWindow: 50, maxVariablesPerSession: 20 },
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  describe.each<[BridgeProtocol, '1.1' | '2']>([
    ['grpc', '2'],
    ['connect', '2'],
    ['grpc-web', '2'],
    ['connect', '1.1'],
    ['grpc-web', '1.1'],
  ])('over %s (HTTP/%s)', (protocol, httpVersion) => {
    it('should create a session, write, read, watch and close', async () => {
      const c = client({ protocol, httpVersion });
      const s = await c.createSession({ id: newId(), metadata: { p: protocol } });
      await s.register('x', 'integer', 1);
      await s.register('emb', 'embedding', new Float32Array([0.5, 0.25]), { constraints: { dimensions: 2 } });
      const it = s.watch(['x'], { includeInitial: true })[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ kind: 'initial', variable: { value: 1 } });
      expect((await it.next()).value).toMatchObject({ kind: 'synced' });
      await s.set('x', 2n ** 60n);
      expect((await it.next()).value).toMatchObject({ kind: 'updated', variable: { value: 2n ** 60n } });
      await it.return?.();
      expect(await s.get('x', { fresh: true })).toBe(2n ** 60n);
      const emb = await s.get<Float32Array>('emb', { fresh: true });
      expect(emb).toBeInstanceOf(Float32Array);
      expect([...emb]).toEqual([0.5, 0.25]);
      expect((await s.info()).metadata).toEqual({ p: protocol });
      await s.close();
      await expect(c.session(s.id).info()).rejects.toMatchObject({ type: 'SessionNotFound' });
    });
  });

  it('should serve every session and variable method', async () => {
    const c = client();
    const s = await c.createSession({ id: newId(), ttlSeconds: 120 });
    expect((await s.heartbeat()).ttlSeconds).toBe(120);
    const ids: string[] = [];
    for await (const info of c.listSessions({ pageSize: 1000 })) ids.push(info.id);
    expect(ids).toContain(s.id);

    const reg = await s.register('temp', 'float', 0.5, { constraints: { min: 0, max: 1 }, metadata: { unit: 'x' } });
    expect(reg).toMatchObject({ name: 'temp', type: 'float', version: 0, metadata: { unit: 'x' } });
    expect(await s.get('temp')).toBe(0.5);
    expect(await s.get(reg.id)).toBe(0.5);
    expect(s.peek('temp')).toBe(0.5);
    const rec = await s.getVariable('temp', { fresh: true });
    expect(rec).toMatchObject({ id: reg.id, version: 0, constraints: { min: 0, max: 1 } });
    expect(rec.createdAt).toBeInstanceOf(Date);
    expect((await s.set('temp', 0.75, { expectedVersion: 0 })).version).toBe(1);
    expect(await s.has('temp')).toBe(true);
    expect(await s.has('nope')).toBe(false);

    await s.register('a', 'integer', 1);
    await s.register('b', 'string', 'x', { constraints: { min_length: 1 } });
    expect(await s.getMany(['a', 'b', 'missing'])).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', 'x'],
      ]),
    );
    expect((await s.setMany({ a: 2, b: 'y' })).every((r) => r.ok)).toBe(true);
    const mixed = await s.setMany(
      [
        { name: 'a', value: 3 },
        { name: 'b', value: 'z', expectedVersion: 0 },
      ],
      { atomic: false },
    );
    expect(mixed[0]).toMatchObject({ ok: true, variable: { value: 3 } });
    expect(mixed[1]).toMatchObject({ ok: false, error: { type: 'VersionConflict', currentVersion: 1 } });
    await expect(
      s.setMany([
        { name: 'a', value: 4 },
        { name: 'b', value: 'w', expectedVersion: 0 },
      ]),
    ).rejects.toMatchObject({ type: 'VersionConflict' });
    expect(await s.get('a', { fresh: true })).toBe(3); // atomic: nothing applied
    expect((await s.batch((b) => b.set('a', 10).set('b', 'q'))).map((r) => r.ok)).toEqual([true, true]);

    const names: string[][] = [];
    for await (const page of s.list('*', { pageSize: 2 }).pages()) names.push(page.map((v) => v.name));
    expect(names).toEqual([['a', 'b'], ['temp']]);
    expect((await s.list('t*').toArray()).map((v) => v.name)).toEqual(['temp']);

    const history = await s.history('a');
    expect(history.map((h) => h.value)).toEqual([10, 3, 2, 1]);
    expect((await s.rollback('a', 0)).value).toBe(1);
    expect(await s.get('a')).toBe(1);

    const h = s.variable<number>('a');
    expect((await h.update((n) => n + 41)).value).toBe(42);
    expect(await h.get()).toBe(42);
    await h.delete();
    await expect(s.get('a')).rejects.toMatchObject({ type: 'VariableNotFound' });
    await s.close();
  });

  describe('errors', () => {
    it('should report each reachable error type with its code and details', async () => {
      const c = client({ retry: false });
      const s = await c.createSession({ id: newId() });
      await expect(c.createSession({ id: s.id })).rejects.toMatchObject({ type: 'AlreadyExists', code: 6 });
      await s.register('n', 'integer', 1, { constraints: { max: 5 } });
      await expect(s.register('n', 'integer', 1)).rejects.toMatchObject({ type: 'AlreadyExists' });
      await expect(s.set('n', 6)).rejects.toMatchObject({ type: 'ValidationError', code: 3 });
      await expect(s.get('zz')).rejects.toMatchObject({ type: 'VariableNotFound', code: 5 });
      await expect(s.set('n', 2, { expectedVersion: 7 })).rejects.toMatchObject({
        type: 'VersionConflict',
        code: 10,
        currentVersion: 0,
      });
      await expect(c.session('no-such-session').info()).rejects.toMatchObject({ type: 'SessionNotFound', code: 5 });
      await expect(s.register('1bad', 'integer', 1)).rejects.toMatchObject({ code: 3 });
      const bad = await s.register('1bad', 'integer', 1).catch((e: unknown) => e);
      expect(isBridgeError(bad, 'InvalidArgument') || isBridgeError(bad, 'ValidationError')).toBe(true);
      await expect(s.register('big', 'string', 'x'.repeat(100_000))).rejects.toMatchObject({
        type: 'PayloadTooLarge',
        code: 8,
      });
      for (let i = 1; i < 20; i++) await s.register(`v${i}`, 'integer', i);
      await expect(s.register('v20', 'integer', 20)).rejects.toMatchObject({ type: 'ResourceExhausted', code: 8 });
      await expect(s.get('n', { fresh: true, signal: AbortSignal.abort() })).rejects.toMatchObject({
        type: 'Cancelled',
      });
    });

    it('should report SessionExpired after the idle TTL', async () => {
      const c = client({ retry: false });
      const s = await c.createSession({ id: newId(), ttlSeconds: 1 });
      const expiresAt = (await s.heartbeat()).expiresAt?.getTime() ?? 0;
      // Calls would extend the TTL: wait for the clock alone to pass the expiry.
      await eventually(() => Date.now() > expiresAt + 20, 'the expiry time');
      await expect(s.info()).rejects.toMatchObject({ type: 'SessionExpired', code: 5 });
    });

    it('should report Compacted with the oldest revision', async () => {
      const c = client();
      const s = await c.createSession({ id: newId() });
      await s.register('x', 'integer', 0);
      for (let i = 1; i <= 60; i++) await s.set('x', i);
      const err = await (async () => {
        for await (const ev of s.watch([], { sinceRevision: 1 })) void ev;
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ type: 'Compacted', code: 11 });
      expect((err as { oldestRevision: number }).oldestRevision).toBeGreaterThan(1);
    });

    it('should report Unauthenticated without a valid token', async () => {
      const secured = await startBridgeServer({ ...serverBase, auth: { tokens: ['s3cret'] } });
      try {
        const anon = client({ baseUrl: secured.url, retry: false });
        await expect(anon.createSession()).rejects.toMatchObject({ type: 'Unauthenticated', code: 16 });
        const wrong = client({ baseUrl: secured.url, token: 'nope', retry: false });
        await expect(wrong.createSession()).rejects.toMatchObject({ type: 'Unauthenticated' });
        const ok = client({ baseUrl: secured.url, token: () => 's3cret' });
        const s = await ok.createSession();
        expect((await s.info()).id).toBe(s.id);
        await ok.close();
      } finally {
        await secured.stop();
      }
    });

    it('should report an unreachable server as Unavailable and a silent one as DeadlineExceeded', async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const down = client({ baseUrl: `http://127.0.0.1:${port}`, retry: { maxAttempts: 2, initialDelayMs: 1 } });
      await expect(down.createSession()).rejects.toMatchObject({ type: 'Unavailable', code: 14 });
      await expect(down.session('x').info()).rejects.toMatchObject({ type: 'Unavailable' });

      const sockets = new Set<net.Socket>();
      const blackhole = net.createServer((sock) => sockets.add(sock));
      await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
      try {
        const bh = (blackhole.address() as net.AddressInfo).port;
        const slow = client({ baseUrl: `http://127.0.0.1:${bh}`, timeoutMs: 200 });
        await expect(slow.session('x').info()).rejects.toMatchObject({ type: 'DeadlineExceeded', code: 4 });
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => blackhole.close(() => r()));
      }
    });
  });

  describe('cache', () => {
    it('should coalesce 100 concurrent cold reads into one RPC', async () => {
      const calls = counter();
      const c = client({ interceptors: [calls.interceptor] });
      const s = await c.createSession({ id: newId() });
      await s.register('x', 'integer', 7);
      c.cache.clear();
      const values = await Promise.all(Array.from({ length: 100 }, () => s.get('x')));
      expect(new Set(values)).toEqual(new Set([7]));
      expect(calls.count('GetVariable')).toBe(1);
      expect(c.cache.stats()).toMatchObject({ misses: 100 });
    });

    it('should read its own writes even with a long TTL and another writer', async () => {
      const a = client({ cache: { ttlMs: 60_000 } });
      const b = client({ cache: false });
      const sa = await a.createSession({ id: newId() });
      const sb = b.session(sa.id);
      await sa.register('x', 'integer', 0);
      expect(await sa.get('x')).toBe(0);
      await sb.set('x', 1); // A does not know yet (TTL mode, long TTL)
      expect(await sa.get('x')).toBe(0);
      await expect(sa.set('x', 5, { expectedVersion: 0 })).rejects.toMatchObject({ type: 'VersionConflict' });
      expect(await sa.get('x')).toBe(1); // the conflict dropped the outdated entry
      await sa.set('x', 2);
      expect(await sa.get('x')).toBe(2);
      expect((await sa.getVariable('x')).version).toBe(2);
    });

    it('should be stale for at most the TTL in ttl mode', async () => {
      // The cache reads a clock advanced by hand: a slow write on a loaded machine cannot outlast the TTL.
      let now = 1_000_000;
      setCacheClockForTesting({ now: () => now });
      try {
        const a = client({ cache: { ttlMs: 100 } });
        const b = client({ cache: false });
        const sa = await a.createSession({ id: newId() });
        await sa.register('x', 'integer', 0);
        expect(await sa.get('x')).toBe(0);
        await b.session(sa.id).set('x', 1);
        now += 99;
        expect(sa.peek('x')).toBe(0); // stale within the TTL
        expect(await sa.get('x')).toBe(0);
        now += 2;
        expect(sa.peek('x')).toBeUndefined(); // expired
        expect(await sa.get('x')).toBe(1);
      } finally {
        setCacheClockForTesting(undefined);
      }
    });

    it('should be fresh as soon as the event arrives in watch mode', async () => {
      const calls = counter();
      const a = client({ cache: { mode: 'watch', ttlMs: 50 }, interceptors: [calls.interceptor] });
      const b = client({ cache: false });
      const id = newId();
      await b.createSession({ id });
      await b.session(id).register('x', 'integer', 0);
      const sa = a.session(id);
      await eventually(() => sa.peek('x') === 0, 'the initial snapshot');
      await b.session(id).set('x', 1);
      await eventually(() => sa.peek('x') === 1, 'the update event');
      await b.session(id).delete('x');
      await eventually(() => sa.peek('x') === undefined, 'the delete event');
      await expect(sa.get('x')).rejects.toMatchObject({ type: 'VariableNotFound' });
      expect(calls.count('WatchVariables')).toBe(1);
      expect(calls.count('GetVariable')).toBe(1); // only the read of the deleted variable
    });

    it('should resume streams after the connection is cut, missing nothing', async () => {
      const proxy = await startTcpProxy(server.port);
      try {
        const a = client({
          baseUrl: proxy.url,
          cache: { mode: 'watch' },
          retry: { initialDelayMs: 5, maxAttempts: 8 },
        });
        const b = client({ cache: false });
        const id = newId();
        await b.createSession({ id });
        const sb = b.session(id);
        await sb.register('x', 'integer', 0);
        const sa = a.session(id);
        await eventually(() => sa.peek('x') === 0, 'the initial snapshot');

        const events: VariableEvent[] = [];
        const ac = new AbortController();
        const watching = (async () => {
          for await (const ev of sa.watch(['x'], { signal: ac.signal })) {
            events.push(ev);
            if (ev.kind === 'updated' && ev.variable?.value === 3) ac.abort();
          }
        })();
        await eventually(() => events.some((e) => e.kind === 'synced'), 'the user stream to be live');
        await sb.set('x', 1);
        await eventually(() => events.some((e) => e.variable?.value === 1), 'the first update');
        proxy.cut();
        await sb.set('x', 2); // while both streams are down
        await sb.set('x', 3);
        await watching;
        const updates = events.filter((e) => e.kind === 'updated').map((e) => e.variable?.value);
        expect(updates).toEqual([1, 2, 3]);
        await eventually(() => sa.peek('x') === 3, 'the cache to catch up');
        expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      } finally {
        await proxy.close();
      }
    });
  });

  it('should make 5 workers x 10 concurrent updates exactly 50', async () => {
    const owner = client();
    const s = await owner.createSession({ id: newId() });
    await s.register('counter', 'integer', 0);
    const workers = Array.from({ length: 5 }, () => client());
    await Promise.all(
      workers.map(async (w) => {
        const ws: Session = w.session(s.id);
        for (let i = 0; i < 10; i++) await ws.update<number>('counter', (n) => n + 1);
      }),
    );
    expect(await s.get('counter', { fresh: true })).toBe(50);
    expect((await s.getVariable('counter')).version).toBe(50);
  });

  it('should send heartbeats on an unref timer while the session is open', async () => {
    const calls = counter();
    const c = client({ interceptors: [calls.interceptor] });
    const s = await c.createSession({ id: newId(), heartbeatIntervalMs: 20 });
    await eventually(() => calls.count('Heartbeat') >= 2, 'two heartbeats');
    await s.close();
    const after = calls.count('Heartbeat');
    expect(s.closed).toBe(true);
    await c.close();
    expect(calls.count('Heartbeat')).toBe(after);
  });
});
