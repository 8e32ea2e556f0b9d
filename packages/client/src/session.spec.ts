import { create } from '@bufbuild/protobuf';
import { Code, type ConnectError } from '@connectrpc/connect';
import { ErrorType, ValueSchema } from '@unified-bridge/proto';
import { wireError, type FakeBridge } from '../test/support/fake-bridge.js';
import { startFakeSession } from '../test/support/fake-session.js';
import type { BridgeClient } from './client.js';
import type { BridgeClientOptions } from './client-options.js';
import { isBridgeError } from './errors.js';
import { createBridgeClient } from './node.js';
import type { Session } from './session.js';

const unavailable = (): ConnectError => wireError(Code.Unavailable, ErrorType.UNAVAILABLE, 'down');
const double = (n: number) => create(ValueSchema, { kind: { case: 'doubleValue', value: n } });

describe('Session (in-memory transport)', () => {
  let fake: FakeBridge;
  let client: BridgeClient;
  let session: Session;

  async function setup(opts: Partial<BridgeClientOptions> = {}): Promise<void> {
    ({ fake, client, session } = await startFakeSession(opts));
  }

  afterEach(async () => {
    await client?.close();
  });

  describe('sessions', () => {
    beforeEach(() => setup());

    it('should create, read, heartbeat and close a session', async () => {
      expect(session.id).toBe('s1');
      const info = await session.info();
      expect(info).toMatchObject({ id: 's1', metadata: { owner: 'test' }, variableCount: 0 });
      expect(info.createdAt).toBeInstanceOf(Date);
      expect((await session.heartbeat()).id).toBe('s1');
      await session.close();
      expect(session.closed).toBe(true);
      expect(fake.sessions.has('s1')).toBe(false);
      await session.close(); // second close does nothing
      expect(fake.count('closeSession')).toBe(1);
    });

    it('should attach to an existing session and return one object per id', async () => {
      expect(client.session('s1')).toBe(session);
      const other = createBridgeClient({ transport: fake.transport() });
      try {
        const attached = other.session('s1');
        expect((await attached.info()).id).toBe('s1');
        await expect(other.session('nope').info()).rejects.toMatchObject({
          type: 'SessionNotFound',
          code: Code.NotFound,
        });
      } finally {
        await other.close();
      }
    });

    it('should fail with AlreadyExists on a taken id', async () => {
      await expect(client.createSession({ id: 's1' })).rejects.toMatchObject({ type: 'AlreadyExists' });
    });

    it('should list sessions page by page', async () => {
      for (let i = 0; i < 5; i++) await client.createSession({ id: `x${i}` });
      const ids: string[] = [];
      for await (const s of client.listSessions({ pageSize: 2 })) ids.push(s.id);
      expect(ids).toEqual(['s1', 'x0', 'x1', 'x2', 'x3', 'x4']);
      expect(fake.count('listSessions')).toBe(3);
    });

    it('should reject bad options with errors that name them', () => {
      expect(() => createBridgeClient({ baseUrl: 'localhost:1', protocol: 'grpc' })).toThrow(/baseUrl/);
      expect(() => createBridgeClient({ baseUrl: 'http://x', protocol: 'soap' as never })).toThrow(/protocol/);
      expect(() => createBridgeClient({ baseUrl: 'http://x', protocol: 'grpc', httpVersion: '1.1' })).toThrow(
        /HTTP\/2/,
      );
      expect(() => createBridgeClient({ transport: fake.transport(), cache: { ttlMs: -1 } })).toThrow(/cache.ttlMs/);
      expect(() => createBridgeClient({ transport: fake.transport(), retry: { maxAttempts: 0 } })).toThrow(
        /retry.maxAttempts/,
      );
    });
  });

  describe('variables', () => {
    beforeEach(() => setup());

    it('should register, get, set and read full records', async () => {
      const reg = await session.register('temp', 'float', 0.5, {
        constraints: { min: 0, max: 1 },
        metadata: { a: 'b' },
      });
      expect(reg).toMatchObject({
        name: 'temp',
        type: 'float',
        value: 0.5,
        version: 0,
        constraints: { min: 0, max: 1 },
      });
      expect(reg.id).toMatch(/^var_temp_/);
      expect(await session.get('temp')).toBe(0.5);
      const upd = await session.set('temp', 0.75);
      expect(upd).toMatchObject({ value: 0.75, version: 1 });
      expect(await session.get('temp')).toBe(0.75);
      expect(await session.get(reg.id)).toBe(0.75);
      expect((await session.getVariable('temp')).version).toBe(1);
      // register, set: two RPCs; every read was a hit (write-through)
      expect(fake.count('getVariable')).toBe(0);
      expect(client.cache.stats()).toMatchObject({ hits: 4, misses: 0 });
    });

    it('should validate locally without a round trip', async () => {
      await session.register('temp', 'float', 0.5, { constraints: { min: 0, max: 1 } });
      const err: unknown = await session.set('temp', 1.5).catch((e: unknown) => e);
      expect(isBridgeError(err, 'ValidationError')).toBe(true);
      expect(err).toMatchObject({
        code: Code.InvalidArgument,
        fieldViolations: [{ field: 'temp', constraint: 'max' }],
      });
      expect(fake.count('updateVariable')).toBe(0);
      await expect(session.register('bad', 'integer', 'abc')).rejects.toMatchObject({ type: 'ValidationError' });
      await expect(session.register('bad', 'float', 1, { constraints: { min: 2, max: 1 } })).rejects.toMatchObject({
        type: 'ValidationError',
      });
      expect(fake.count('registerVariable')).toBe(1);
    });

    it('should learn the type of a variable it never saw with one read, then validate', async () => {
      fake.sessions.get('s1'); // registered by another client:
      const other = createBridgeClient({ transport: fake.transport() });
      await other.session('s1').register('n', 'integer', 1, { constraints: { max: 10 } });
      await other.close();
      await expect(session.set('n', 11)).rejects.toMatchObject({ type: 'ValidationError' });
      expect(fake.count('getVariable')).toBe(1);
      expect((await session.set('n', '7')).value).toBe(7);
      expect(fake.count('getVariable')).toBe(1);
    });

    it('should report a missing variable as VariableNotFound', async () => {
      await expect(session.get('missing')).rejects.toMatchObject({ type: 'VariableNotFound', code: Code.NotFound });
      expect(await session.has('missing')).toBe(false);
      await session.register('x', 'integer', 1);
      expect(await session.has('x')).toBe(true);
    });

    it('should get many with cached and missing names', async () => {
      await session.register('a', 'integer', 1);
      await session.register('b', 'string', 'two');
      client.cache.clear();
      expect(await session.get('a')).toBe(1); // cache a
      const m = await session.getMany(['a', 'b', 'zzz']);
      expect([...m]).toEqual([
        ['a', 1],
        ['b', 'two'],
      ]);
      expect(fake.calls.get('getVariables')).toBe(1);
    });

    it('should set many atomically or with a result per key', async () => {
      await session.register('a', 'integer', 1, { constraints: { max: 10 } });
      await session.register('b', 'integer', 2);
      const ok = await session.setMany({ a: 3, b: 4 });
      expect(ok.map((r) => r.ok)).toEqual([true, true]);
      expect(await session.getMany(['a', 'b'])).toEqual(
        new Map([
          ['a', 3],
          ['b', 4],
        ]),
      );

      // atomic + a local failure: nothing is sent
      await expect(session.setMany({ a: 11, b: 5 })).rejects.toMatchObject({
        type: 'ValidationError',
        fieldViolations: [{ field: 'a', constraint: 'max' }],
      });
      expect(fake.count('updateVariables')).toBe(1);
      // atomic + a server failure (conflict): nothing applied
      await expect(
        session.setMany([
          { name: 'a', value: 5, expectedVersion: 1 },
          { name: 'b', value: 6, expectedVersion: 0 },
        ]),
      ).rejects.toMatchObject({ type: 'VersionConflict' });
      expect(await session.get('b', { fresh: true })).toBe(4);

      // non-atomic: per-key results, local failures included
      const res = await session.setMany(
        [
          { name: 'a', value: 99 },
          { name: 'b', value: 7 },
          { name: 'nope', value: 1 },
        ],
        { atomic: false },
      );
      expect(res[0]).toMatchObject({ name: 'a', ok: false, error: { type: 'ValidationError' } });
      expect(res[1]).toMatchObject({ name: 'b', ok: true, variable: { value: 7, version: 2 } });
      expect(res[2]).toMatchObject({ name: 'nope', ok: false, error: { type: 'VariableNotFound' } });
    });

    it('should apply an atomic batch built with the builder', async () => {
      await session.register('a', 'integer', 1);
      await session.register('b', 'integer', 1);
      const res = await session.batch((b) => b.set('a', 2).set('b', 3, { expectedVersion: 0 }));
      expect(res.every((r) => r.ok)).toBe(true);
      expect(await session.get('b')).toBe(3);
      await expect(session.batch((b) => b.set('a', 1).set('a', 2))).rejects.toMatchObject({ type: 'InvalidArgument' });
    });

    it('should delete and invalidate the cache', async () => {
      await session.register('a', 'integer', 1);
      expect(await session.get('a')).toBe(1);
      await session.delete('a');
      await expect(session.get('a')).rejects.toMatchObject({ type: 'VariableNotFound' });
      await expect(session.delete('a')).rejects.toMatchObject({ type: 'VariableNotFound' });
    });

    it('should not answer an old id with a re-registered variable of the same name', async () => {
      const first = await session.register('a', 'integer', 1);
      await session.delete(first.id);
      const second = await session.register('a', 'string', 'two');
      expect(second.id).not.toBe(first.id);
      expect(session.peek(first.id)).toBeUndefined();
      await expect(session.get(first.id)).rejects.toMatchObject({ type: 'VariableNotFound' });
      expect(await session.get(second.id)).toBe('two');
      expect((await session.set('a', 'three')).value).toBe('three'); // the new type is used
    });

    it('should list variables page by page with a glob', async () => {
      for (const n of ['opt.a', 'opt.b', 'opt.c', 'other']) await session.register(n, 'integer', 1);
      const pages: string[][] = [];
      for await (const page of session.list('opt.*', { pageSize: 2 }).pages()) pages.push(page.map((v) => v.name));
      expect(pages).toEqual([['opt.a', 'opt.b'], ['opt.c']]);
      expect((await session.list().toArray()).map((v) => v.name)).toEqual(['opt.a', 'opt.b', 'opt.c', 'other']);
    });

    it('should return history and roll back', async () => {
      await session.register('a', 'integer', 1);
      await session.set('a', 2);
      await session.set('a', 3);
      const h = await session.history('a');
      expect(h.map((e) => [e.version, e.value])).toEqual([
        [2, 3],
        [1, 2],
        [0, 1],
      ]);
      expect((await session.history('a', { limit: 1 })).length).toBe(1);
      const rb = await session.rollback('a', 0);
      expect(rb).toMatchObject({ value: 1, version: 3 });
      expect(await session.get('a')).toBe(1);
      await expect(session.rollback('a', 0, { expectedVersion: 1 })).rejects.toMatchObject({
        type: 'VersionConflict',
        currentVersion: 3,
      });
    });

    it('should make concurrent updates exact (5 workers x 10 increments)', async () => {
      await session.register('counter', 'integer', 0);
      const workers = Array.from({ length: 5 }, () => createBridgeClient({ transport: fake.transport() }));
      try {
        await Promise.all(
          workers.map(async (w) => {
            const s = w.session('s1');
            for (let i = 0; i < 10; i++) await s.update<number>('counter', (n) => n + 1);
          }),
        );
      } finally {
        await Promise.all(workers.map((w) => w.close()));
      }
      expect(await session.get('counter', { fresh: true })).toBe(50);
    });

    it('should work through a typed handle', async () => {
      const h = session.variable<number>('n');
      await session.register('n', 'integer', 1);
      expect(await h.get()).toBe(1);
      expect(h.peek()).toBe(1);
      expect((await h.set(2)).version).toBe(1);
      expect((await h.update((n) => n * 10)).value).toBe(20);
      await h.delete();
      expect(h.peek()).toBeUndefined();
    });
  });

  describe('deadlines and retries', () => {
    beforeEach(() => setup());

    it('should retry idempotent reads on Unavailable', async () => {
      await session.register('a', 'integer', 1);
      client.cache.clear();
      fake.failNext('getVariable', unavailable(), unavailable());
      expect(await session.get('a')).toBe(1);
      expect(fake.count('getVariable')).toBe(3);
    });

    it('should give up after maxAttempts', async () => {
      await session.register('a', 'integer', 1);
      client.cache.clear();
      fake.failNext('getVariable', unavailable(), unavailable(), unavailable(), unavailable(), unavailable());
      await expect(session.get('a')).rejects.toMatchObject({ type: 'Unavailable' });
      expect(fake.count('getVariable')).toBe(4);
    });

    it('should never retry a plain write, but retry a CAS-guarded one', async () => {
      await session.register('a', 'integer', 1);
      fake.failNext('updateVariable', unavailable());
      await expect(session.set('a', 2)).rejects.toMatchObject({ type: 'Unavailable' });
      expect(fake.count('updateVariable')).toBe(1);
      fake.failNext('updateVariable', unavailable());
      expect((await session.set('a', 2, { expectedVersion: 0 })).version).toBe(1);
      expect(fake.count('updateVariable')).toBe(3);
    });

    it('should not retry with retry: false', async () => {
      await client.close();
      await setup({ retry: false });
      await session.register('a', 'integer', 1);
      client.cache.clear();
      fake.failNext('getVariable', unavailable());
      await expect(session.get('a')).rejects.toMatchObject({ type: 'Unavailable' });
      expect(fake.count('getVariable')).toBe(1);
    });

    it('should honour timeoutMs and signal', async () => {
      await session.register('a', 'integer', 1);
      client.cache.clear();
      fake.getDelayMs = 300;
      await expect(session.get('a', { timeoutMs: 20 })).rejects.toMatchObject({ type: 'DeadlineExceeded' });
      const ac = new AbortController();
      const p = session.get('a', { signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toMatchObject({ type: 'Cancelled' });
      await expect(session.info({ signal: AbortSignal.abort() })).rejects.toMatchObject({ type: 'Cancelled' });
    });

    it('should fail every call after close with Cancelled', async () => {
      await client.close();
      await expect(session.info()).rejects.toMatchObject({ type: 'Cancelled' });
      expect(() => client.session('s1')).toThrow(/closed/);
    });
  });

  it('should decode doubles from other writers', async () => {
    await setup();
    await session.register('f', 'float', 0.5);
    fake.externalSet('s1', 'f', double(0.25));
    expect(await session.get('f', { fresh: true })).toBe(0.25);
  });
});
