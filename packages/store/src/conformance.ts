/**
 * The conformance suite every {@link SessionStore} backend must pass.
 *
 * Needs Jest (it calls the global `describe`, `it`, `expect`, `afterEach`)
 * and fast-check (a peer dependency). Stability: experimental; new cases may
 * be added in minor releases, since every backend must honour the interface
 * as documented.
 *
 * @example
 * // my-store.spec.ts
 * import { describeSessionStore } from '@unified-bridge/store/conformance';
 * describeSessionStore('MyStore', ({ clock, limits }) => new MyStore({ clock, limits }));
 *
 * @packageDocumentation
 */
import fc from 'fast-check';
import type { StoreLimits } from './limits.js';
import type { Clock, SessionStore, StoredVariable, WatchEvent } from './session-store.js';
import { isStoreError, type StoreError, type StoreErrorType } from './store-error.js';

/** What the suite passes to the factory: the backend must use this clock and these limits. */
export interface ConformanceContext {
  /** A manual clock; the suite moves it to test TTLs. */
  readonly clock: ManualClock;
  /** Limits to apply on top of the backend's defaults (small ones, to test overflow and exhaustion). */
  readonly limits: Partial<StoreLimits>;
}

/** Optional hooks of {@link describeSessionStore}. */
export interface ConformanceOptions {
  /**
   * Runs the backend's expiry sweep now (for `MemoryStore`: `store.sweepExpired()`).
   * When given, the suite also checks that expiry ends watchers with `SessionExpired`.
   */
  sweepExpired?: (store: SessionStore) => unknown;
  /** Runs of the fast-check model test. Default 100. */
  modelRuns?: number;
}

/**
 * A clock that only moves when told, starting at 2024-01-01T00:00:00Z.
 * @example const clock = new ManualClock(); clock.advance(1000);
 */
export class ManualClock implements Clock {
  private t: number;
  /** Starts the clock at `start` ms epoch (default 2024-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2024, 0, 1)) {
    this.t = start;
  }
  /** The current time. */
  now(): number {
    return this.t;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.t += ms;
  }
}

// Minimal typings of the Jest globals the suite uses, so this module does not
// depend on @types/jest.
interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatch(expected: RegExp | string): void;
  toBeGreaterThan(n: number): void;
  toBeGreaterThanOrEqual(n: number): void;
  toBeLessThanOrEqual(n: number): void;
  toHaveLength(n: number): void;
  toContain(item: unknown): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  toBeTruthy(): void;
  not: Matchers;
}
interface JestGlobals {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeoutMs?: number): void;
  expect(actual: unknown): Matchers;
  afterEach(fn: () => Promise<void> | void): void;
}

function jestGlobals(): JestGlobals {
  const g = globalThis as unknown as Partial<JestGlobals>;
  if (
    typeof g.describe !== 'function' ||
    typeof g.it !== 'function' ||
    typeof g.expect !== 'function' ||
    typeof g.afterEach !== 'function'
  ) {
    throw new TypeError(
      'describeSessionStore needs the Jest globals describe, it, expect and afterEach: run it inside a Jest test file',
    );
  }
  return g as JestGlobals;
}

/** Runs `fn` and returns the StoreError it throws, failing if it resolves or throws anything else. */
async function storeErrorOf(fn: () => Promise<unknown>, type: StoreErrorType): Promise<StoreError> {
  let result: unknown;
  try {
    result = await fn();
  } catch (err) {
    if (isStoreError(err, type)) return err;
    throw new Error(
      `expected StoreError ${type}, got ${isStoreError(err) ? `StoreError ${err.type}: ${err.message}` : String(err)}`,
      {
        cause: err,
      },
    );
  }
  throw new Error(`expected StoreError ${type}, but the call succeeded with ${String(result)}`);
}

const num = (v: unknown): number => Number(v);

/**
 * Declares the conformance suite for one backend as a Jest `describe` block.
 * `createStore` is called once per test with a fresh {@link ConformanceContext};
 * the suite closes each store after its test.
 *
 * @example
 * describeSessionStore('MemoryStore', ({ clock, limits }) => new MemoryStore({ clock, limits, sweepIntervalMs: 0 }),
 *   { sweepExpired: (s) => (s as MemoryStore).sweepExpired() });
 */
export function describeSessionStore(
  name: string,
  createStore: (context: ConformanceContext) => SessionStore | Promise<SessionStore>,
  options: ConformanceOptions = {},
): void {
  const { describe, it, expect, afterEach } = jestGlobals();
  const open: SessionStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const make = async (limits: Partial<StoreLimits> = {}): Promise<{ store: SessionStore; clock: ManualClock }> => {
    const clock = new ManualClock();
    const store = await createStore({ clock, limits });
    open.push(store);
    return { store, clock };
  };
  const withSession = async (limits: Partial<StoreLimits> = {}) => {
    const { store, clock } = await make(limits);
    const session = await store.createSession({ id: 'conformance' });
    return { store, clock, sid: session.id };
  };
  const floatVar = (store: SessionStore, sid: string, varName: string, value = 0.5) =>
    store.registerVariable(sid, { name: varName, type: 'float', value, constraints: { min: 0, max: 1 } });

  describe(`SessionStore conformance: ${name}`, () => {
    describe('sessions', () => {
      it('should create a session with a generated id and report counts and times', async () => {
        const { store, clock } = await make({ sessionTtlMs: 60_000 });
        const s = await store.createSession({ metadata: { team: 'a' }, owner: 'alice' });
        expect(s.id.length).toBeGreaterThan(0);
        expect(s.createdAt).toBe(clock.now());
        expect(s.lastUsedAt).toBe(clock.now());
        expect(s.expiresAt).toBe(clock.now() + 60_000);
        expect(s.ttlMs).toBe(60_000);
        expect(s.variableCount).toBe(0);
        expect(s.metadata).toEqual({ team: 'a' });
        expect(s.owner).toBe('alice');
        await floatVar(store, s.id, 'x');
        const again = await store.getSession(s.id);
        expect(again.variableCount).toBe(1);
        expect(again.revision).toBe(1);
        const other = await store.createSession();
        expect(other.id).not.toBe(s.id);
      });

      it('should refuse a duplicate or malformed caller id', async () => {
        const { store } = await make();
        await store.createSession({ id: 'abc:1' });
        await storeErrorOf(() => store.createSession({ id: 'abc:1' }), 'AlreadyExists');
        await storeErrorOf(() => store.createSession({ id: 'has space' }), 'InvalidArgument');
        await storeErrorOf(() => store.createSession({ id: 'x'.repeat(129) }), 'InvalidArgument');
        await storeErrorOf(() => store.createSession({ ttlMs: -5 }), 'InvalidArgument');
      });

      it('should fail with SessionNotFound for an unknown session', async () => {
        const { store } = await make();
        await storeErrorOf(() => store.getSession('nope'), 'SessionNotFound');
        await storeErrorOf(() => store.getVariable('nope', 'x'), 'SessionNotFound');
      });

      it('should slide the idle TTL on use and on heartbeat', async () => {
        const { store, clock } = await make({ sessionTtlMs: 1000 });
        const s = await store.createSession({ id: 's1' });
        clock.advance(900);
        const touched = await store.touchSession('s1');
        expect(touched.expiresAt).toBe(s.createdAt + 1900);
        clock.advance(900);
        await store.getSession('s1');
        clock.advance(900);
        const still = await store.getSession('s1');
        expect(still.lastUsedAt).toBe(clock.now());
      });

      it('should expire an idle session and never re-create it silently', async () => {
        const { store, clock } = await make({ sessionTtlMs: 1000 });
        await store.createSession({ id: 's1' });
        await store.createSession({ id: 's2', ttlMs: 5000 });
        await floatVar(store, 's1', 'x');
        clock.advance(1000);
        await storeErrorOf(() => store.getVariable('s1', 'x'), 'SessionExpired');
        await storeErrorOf(() => store.getSession('s1'), 'SessionExpired');
        await storeErrorOf(
          () => store.registerVariable('s1', { name: 'y', type: 'float', value: 1 }),
          'SessionExpired',
        );
        expect((await store.getSession('s2')).ttlMs).toBe(5000);
        // SessionExpired names the owner, so a server can tell the owner "expired" and others "not found".
        await store.createSession({ id: 's3', owner: 'alice' });
        clock.advance(1000);
        const first = await storeErrorOf(() => store.getSession('s3'), 'SessionExpired');
        const again = await storeErrorOf(() => store.getSession('s3'), 'SessionExpired');
        expect([first.details['owner'], again.details['owner']]).toEqual(['alice', 'alice']);
        expect((await storeErrorOf(() => store.getSession('s1'), 'SessionExpired')).details['owner']).toBe('');
        const listed = await store.listSessions();
        expect(listed.sessions.map((x) => x.id)).toEqual(['s2']);
        const fresh = await store.createSession({ id: 's1' });
        expect(fresh.variableCount).toBe(0);
      });

      if (options.sweepExpired !== undefined) {
        const sweep = options.sweepExpired;
        it('should end the watchers of an expired session with SessionExpired', async () => {
          const { store, clock } = await make({ sessionTtlMs: 1000 });
          await store.createSession({ id: 's1' });
          const it1 = store.watch('s1')[Symbol.asyncIterator]();
          expect((await it1.next()).value?.kind).toBe('synced');
          clock.advance(1000);
          await sweep(store);
          await storeErrorOf(() => it1.next(), 'SessionExpired');
          await storeErrorOf(() => store.getSession('s1'), 'SessionExpired');
        });
      }

      it('should close a session: remove its state, end its watchers after their buffered events', async () => {
        const { store, sid } = await withSession();
        await floatVar(store, sid, 'x');
        await store.registerTool(sid, { name: 't', owner: 'host' });
        const w = store.watch(sid)[Symbol.asyncIterator]();
        expect((await w.next()).value?.kind).toBe('synced');
        await store.updateVariable(sid, 'x', 0.7);
        await store.closeSession(sid);
        expect((await w.next()).value?.kind).toBe('updated');
        await storeErrorOf(() => w.next(), 'SessionNotFound');
        await storeErrorOf(() => store.getSession(sid), 'SessionNotFound');
        await storeErrorOf(() => store.closeSession(sid), 'SessionNotFound');
        const again = await store.createSession({ id: sid });
        expect(again.variableCount).toBe(0);
        expect(again.toolCount).toBe(0);
        await storeErrorOf(() => store.getVariable(sid, 'x'), 'VariableNotFound');
      });

      it('should list sessions ordered by id, paged, filtered by owner', async () => {
        const { store } = await make();
        for (const id of ['c', 'a', 'e', 'b', 'd'])
          await store.createSession({ id, owner: id < 'c' ? 'alice' : 'bob' });
        const p1 = await store.listSessions({ pageSize: 2 });
        expect(p1.sessions.map((s) => s.id)).toEqual(['a', 'b']);
        const p2 = await store.listSessions({ pageSize: 2, pageToken: p1.nextPageToken });
        expect(p2.sessions.map((s) => s.id)).toEqual(['c', 'd']);
        const p3 = await store.listSessions({ pageSize: 2, pageToken: p2.nextPageToken });
        expect(p3.sessions.map((s) => s.id)).toEqual(['e']);
        expect(p3.nextPageToken).toBe('');
        const alice = await store.listSessions({ owner: 'alice' });
        expect(alice.sessions.map((s) => s.id)).toEqual(['a', 'b']);
        await storeErrorOf(() => store.listSessions({ pageToken: 'garbage!' }), 'InvalidArgument');
      });

      it('should enforce maxSessions with ResourceExhausted naming the limit', async () => {
        const { store } = await make({ maxSessions: 2 });
        await store.createSession();
        await store.createSession();
        const err = await storeErrorOf(() => store.createSession(), 'ResourceExhausted');
        expect(err.limit).toBe('maxSessions');
      });
    });

    describe('variables', () => {
      it('should register a variable with an id, version 0 and timestamps', async () => {
        const { store, clock, sid } = await withSession();
        const v = await store.registerVariable(sid, {
          name: 'temperature',
          type: 'float',
          value: 0.7,
          constraints: { min: 0, max: 1 },
          metadata: { unit: 'none' },
        });
        expect(v.id).toMatch(/^var_temperature_[A-Za-z0-9]+$/);
        expect(v.name).toBe('temperature');
        expect(v.type).toBe('float');
        expect(v.value).toBe(0.7);
        expect(v.constraints).toEqual({ min: 0, max: 1 });
        expect(v.metadata).toEqual({ unit: 'none' });
        expect(v.version).toBe(0);
        expect(v.revision).toBe(1);
        expect(v.createdAt).toBe(clock.now());
        expect(v.updatedAt).toBe(clock.now());
      });

      it('should enforce the name rules', async () => {
        const { store, sid } = await withSession();
        for (const good of ['a', '_x', 'a.b-c_d9', 'A'.repeat(128)]) {
          expect((await store.registerVariable(sid, { name: good, type: 'float', value: 1 })).name).toBe(good);
        }
        for (const bad of ['', '1a', '-a', '.a', 'a b', 'a*', 'a/b', 'é', 'A'.repeat(129)]) {
          await storeErrorOf(
            () => store.registerVariable(sid, { name: bad, type: 'float', value: 1 }),
            'InvalidArgument',
          );
        }
      });

      it('should refuse a duplicate name, a bad value and bad constraints, changing nothing', async () => {
        const { store, sid } = await withSession();
        await floatVar(store, sid, 'x');
        await storeErrorOf(() => floatVar(store, sid, 'x'), 'AlreadyExists');
        const bad = await storeErrorOf(() => floatVar(store, sid, 'y', 1.5), 'ValidationFailed');
        expect(bad.violations.length).toBeGreaterThan(0);
        expect(bad.violations[0]?.constraint).toBe('max');
        await storeErrorOf(
          () => store.registerVariable(sid, { name: 'z', type: 'float', value: 1, constraints: { min: 2, max: 1 } }),
          'InvalidArgument',
        );
        await storeErrorOf(
          () => store.registerVariable(sid, { name: 'z', type: 'float', value: 1, constraints: { nope: 1 } }),
          'InvalidArgument',
        );
        await storeErrorOf(
          () => store.registerVariable(sid, { name: 'z', type: 'no-such-type', value: 1 }),
          'InvalidArgument',
        );
        expect((await store.getSession(sid)).variableCount).toBe(1);
        expect((await store.getSession(sid)).revision).toBe(1);
      });

      it('should get by name or id, and batch get found and missing', async () => {
        const { store, sid } = await withSession();
        const x = await floatVar(store, sid, 'x');
        const y = await floatVar(store, sid, 'y');
        expect((await store.getVariable(sid, 'x')).id).toBe(x.id);
        expect((await store.getVariable(sid, x.id)).name).toBe('x');
        await storeErrorOf(() => store.getVariable(sid, 'nope'), 'VariableNotFound');
        await storeErrorOf(() => store.getVariable(sid, `${x.id}0`), 'VariableNotFound');
        const { found, missing } = await store.getVariables(sid, ['x', y.id, 'nope', 'gone']);
        expect([...found.keys()]).toEqual(['x', y.id]);
        expect(found.get(y.id)?.name).toBe('y');
        expect(missing).toEqual(['nope', 'gone']);
      });

      it('should update with validation, versions, metadata and expectedVersion CAS', async () => {
        const { store, clock, sid } = await withSession();
        await floatVar(store, sid, 'x');
        clock.advance(10);
        const v1 = await store.updateVariable(sid, 'x', 0.75, { metadata: { by: 'me' } });
        expect(v1.version).toBe(1);
        expect(v1.value).toBe(0.75);
        expect(v1.metadata).toEqual({ by: 'me' });
        expect(v1.updatedAt).toBe(clock.now());
        expect(v1.createdAt).toBe(clock.now() - 10);
        const bad = await storeErrorOf(() => store.updateVariable(sid, 'x', 2), 'ValidationFailed');
        expect(bad.violations[0]?.constraint).toBe('max');
        const conflict = await storeErrorOf(
          () => store.updateVariable(sid, 'x', 0.1, { expectedVersion: 0 }),
          'VersionConflict',
        );
        expect(conflict.currentVersion).toBe(1);
        expect((await store.getVariable(sid, 'x')).value).toBe(0.75);
        const v2 = await store.updateVariable(sid, v1.id, 0.2, { expectedVersion: 1 });
        expect(v2.version).toBe(2);
        expect(v2.revision).toBe(v1.revision + 1);
        await storeErrorOf(() => store.updateVariable(sid, 'nope', 0.2), 'VariableNotFound');
      });

      it('should return immutable snapshots', async () => {
        const { store, sid } = await withSession();
        await store.registerVariable(sid, { name: 'j', type: 'json', value: { a: [1, 2] } });
        const got = await store.getVariable(sid, 'j');
        try {
          ((got.value as { a: number[] }).a as number[]).push(3);
          (got as { version: number }).version = 99;
        } catch {
          // frozen snapshots throw in strict mode; copies do not: both are fine
        }
        const again = await store.getVariable(sid, 'j');
        expect(again.value).toEqual({ a: [1, 2] });
        expect(again.version).toBe(0);
      });

      it('should apply an atomic batch all or nothing, reporting every failure', async () => {
        const { store, sid } = await withSession();
        for (const n of ['a', 'b', 'c']) await floatVar(store, sid, n);
        const err = await storeErrorOf(
          () =>
            store.updateVariables(
              sid,
              [
                { identifier: 'a', value: 0.9 },
                { identifier: 'b', value: 7 },
                { identifier: 'c', value: 0.1, expectedVersion: 4 },
                { identifier: 'zz', value: 0.1 },
              ],
              { atomic: true },
            ),
          'ValidationFailed',
        );
        expect(err.violations.map((v) => v.field)).toEqual(['b', 'c', 'zz']);
        for (const n of ['a', 'b', 'c']) expect((await store.getVariable(sid, n)).version).toBe(0);
        expect((await store.getSession(sid)).revision).toBe(3);
        const ok = await store.updateVariables(
          sid,
          [
            { identifier: 'a', value: 0.9 },
            { identifier: 'b', value: 0.8 },
          ],
          { atomic: true },
        );
        expect(ok.map((r) => r.ok && r.variable.version)).toEqual([1, 1]);
      });

      it('should apply a non-atomic batch per key, in request order', async () => {
        const { store, sid } = await withSession();
        for (const n of ['a', 'b']) await floatVar(store, sid, n);
        const results = await store.updateVariables(
          sid,
          [
            { identifier: 'a', value: 0.9 },
            { identifier: 'b', value: 7 },
            { identifier: 'nope', value: 0.1 },
          ],
          { atomic: false },
        );
        expect(results.map((r) => r.identifier)).toEqual(['a', 'b', 'nope']);
        expect(results.map((r) => (r.ok ? 'ok' : r.error.type))).toEqual([
          'ok',
          'ValidationFailed',
          'VariableNotFound',
        ]);
        expect((await store.getVariable(sid, 'a')).value).toBe(0.9);
        expect((await store.getVariable(sid, 'b')).value).toBe(0.5);
        const a = await store.getVariable(sid, 'a');
        await storeErrorOf(
          () =>
            store.updateVariables(
              sid,
              [
                { identifier: 'a', value: 0.1 },
                { identifier: a.id, value: 0.2 },
              ],
              { atomic: false },
            ),
          'InvalidArgument',
        );
      });

      it('should never show a reader or a watcher half of an atomic batch', async () => {
        const { store, sid } = await withSession();
        const names = Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`);
        for (const n of names) await floatVar(store, sid, n, 0);
        const w = store.watch(sid)[Symbol.asyncIterator]();
        const synced = (await w.next()).value as WatchEvent;
        const reads: Promise<{ found: ReadonlyMap<string, StoredVariable> }>[] = [];
        const batch = store.updateVariables(
          sid,
          names.map((n) => ({ identifier: n, value: 1 })),
          { atomic: true },
        );
        for (let i = 0; i < 10; i++) reads.push(store.getVariables(sid, names));
        await batch;
        for (const r of await Promise.all(reads)) {
          const values = new Set([...r.found.values()].map((v) => v.value));
          expect(values.size).toBe(1);
        }
        const revisions: number[] = [];
        for (let i = 0; i < names.length; i++) {
          const e = (await w.next()).value as WatchEvent;
          expect(e.kind).toBe('updated');
          revisions.push(e.revision);
        }
        expect(revisions).toEqual(names.map((_, i) => synced.revision + 1 + i));
        await w.return?.();
      });

      it('should delete a variable and its history, freeing the name', async () => {
        const { store, sid } = await withSession();
        await floatVar(store, sid, 'x');
        await store.updateVariable(sid, 'x', 0.9);
        const last = await store.deleteVariable(sid, 'x');
        expect(last.value).toBe(0.9);
        await storeErrorOf(() => store.getVariable(sid, 'x'), 'VariableNotFound');
        await storeErrorOf(() => store.deleteVariable(sid, 'x'), 'VariableNotFound');
        const again = await floatVar(store, sid, 'x', 0.1);
        expect(again.version).toBe(0);
        expect((await store.getHistory(sid, 'x')).map((h) => h.version)).toEqual([0]);
      });

      it('should list by anchored glob with stable paging by name', async () => {
        const { store, sid } = await withSession();
        for (const n of ['temp_b', 'temp_a', 'xtemp_c', 'ab', 'bb', 'abc', 'temp_d']) await floatVar(store, sid, n);
        const list = async (pattern: string) =>
          (await store.listVariables(sid, { pattern })).variables.map((v) => v.name);
        expect(await list('temp_*')).toEqual(['temp_a', 'temp_b', 'temp_d']);
        expect(await list('?b')).toEqual(['ab', 'bb']);
        expect(await list('ab')).toEqual(['ab']);
        expect(await list('*c')).toEqual(['abc', 'xtemp_c']);
        expect(await list('')).toHaveLength(7);
        expect(await list('*')).toHaveLength(7);
        const p1 = await store.listVariables(sid, { pageSize: 3 });
        expect(p1.variables.map((v) => v.name)).toEqual(['ab', 'abc', 'bb']);
        await floatVar(store, sid, 'aa');
        await floatVar(store, sid, 'temp_c');
        await store.deleteVariable(sid, 'temp_d');
        const p2 = await store.listVariables(sid, { pageSize: 3, pageToken: p1.nextPageToken });
        expect(p2.variables.map((v) => v.name)).toEqual(['temp_a', 'temp_b', 'temp_c']);
        const p3 = await store.listVariables(sid, { pageSize: 3, pageToken: p2.nextPageToken });
        expect(p3.variables.map((v) => v.name)).toEqual(['xtemp_c']);
        expect(p3.nextPageToken).toBe('');
        const filtered = await store.listVariables(sid, { pattern: 'temp_?', pageSize: 2 });
        expect(filtered.variables.map((v) => v.name)).toEqual(['temp_a', 'temp_b']);
        const filtered2 = await store.listVariables(sid, {
          pattern: 'temp_?',
          pageSize: 2,
          pageToken: filtered.nextPageToken,
        });
        expect(filtered2.variables.map((v) => v.name)).toEqual(['temp_c']);
        expect(filtered2.nextPageToken).toBe('');
      });

      it('should keep a bounded history, newest first, with values, times and metadata', async () => {
        const { store, clock, sid } = await withSession({ historyDepth: 3 });
        const v0 = await floatVar(store, sid, 'x', 0.1);
        for (const [i, value] of [0.2, 0.3, 0.4].entries()) {
          clock.advance(1);
          await store.updateVariable(sid, 'x', value, { metadata: { step: String(i + 1) } });
        }
        const h = await store.getHistory(sid, 'x');
        expect(h.map((e) => [e.version, e.value])).toEqual([
          [3, 0.4],
          [2, 0.3],
          [1, 0.2],
        ]);
        expect(h[0]?.metadata).toEqual({ step: '3' });
        expect(h[0]?.updatedAt).toBe(clock.now());
        expect(h[2]?.updatedAt).toBe(v0.createdAt + 1);
        expect((await store.getHistory(sid, 'x', { limit: 1 })).map((e) => e.version)).toEqual([3]);
      });

      it('should disable history at depth 0', async () => {
        const { store, sid } = await withSession({ historyDepth: 0 });
        await floatVar(store, sid, 'x', 0.1);
        await store.updateVariable(sid, 'x', 0.2);
        expect(await store.getHistory(sid, 'x')).toEqual([]);
        await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
      });

      it('should roll back by writing an old value as a new version', async () => {
        const { store, sid } = await withSession({ historyDepth: 3 });
        await floatVar(store, sid, 'x', 0.1);
        for (const value of [0.2, 0.3, 0.4]) await store.updateVariable(sid, 'x', value);
        await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
        const r = await store.rollbackVariable(sid, 'x', 1);
        expect(r.version).toBe(4);
        expect(r.value).toBe(0.2);
        await storeErrorOf(() => store.rollbackVariable(sid, 'x', 0), 'VariableNotFound');
        const c = await storeErrorOf(
          () => store.rollbackVariable(sid, 'x', 3, { expectedVersion: 2 }),
          'VersionConflict',
        );
        expect(c.currentVersion).toBe(4);
        expect((await store.getVariable(sid, 'x')).version).toBe(4);
      });

      it('should end 50 concurrent read-modify-write increments at exactly 50', async () => {
        const { store, sid } = await withSession();
        await store.registerVariable(sid, { name: 'counter', type: 'integer', value: 0 });
        await Promise.all(
          Array.from({ length: 50 }, () =>
            store.modifyVariable(sid, 'counter', async (cur) => {
              await Promise.resolve();
              return num(cur.value) + 1;
            }),
          ),
        );
        const v = await store.getVariable(sid, 'counter');
        expect(num(v.value)).toBe(50);
        expect(v.version).toBe(50);
      });

      it('should give up modifyVariable after maxRetries conflicts', async () => {
        const { store, sid } = await withSession();
        await store.registerVariable(sid, { name: 'counter', type: 'integer', value: 0 });
        const err = await storeErrorOf(
          () =>
            store.modifyVariable(
              sid,
              'counter',
              async (cur) => {
                await store.updateVariable(sid, 'counter', num(cur.value) + 100);
                return num(cur.value) + 1;
              },
              { maxRetries: 2 },
            ),
          'VersionConflict',
        );
        expect(err.currentVersion).toBe(3);
      });

      it('should enforce variable, value size and metadata limits', async () => {
        const { store, sid } = await withSession({ maxVariablesPerSession: 2, maxValueBytes: 64 });
        await store.registerVariable(sid, { name: 's', type: 'string', value: 'short' });
        const big = await storeErrorOf(() => store.updateVariable(sid, 's', 'x'.repeat(100)), 'ResourceExhausted');
        expect(big.limit).toBe('maxValueBytes');
        await floatVar(store, sid, 'b');
        const full = await storeErrorOf(() => floatVar(store, sid, 'c'), 'ResourceExhausted');
        expect(full.limit).toBe('maxVariablesPerSession');
        const meta = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
        await storeErrorOf(() => store.updateVariable(sid, 'b', 0.1, { metadata: meta }), 'InvalidArgument');
        expect((await store.getVariable(sid, 's')).value).toBe('short');
      });
    });

    describe('watch', () => {
      it('should send synced first, then every change with revisions increasing by one', async () => {
        const { store, sid } = await withSession();
        await floatVar(store, sid, 'x');
        const w = store.watch(sid)[Symbol.asyncIterator]();
        const synced = (await w.next()).value as WatchEvent;
        expect(synced).toEqual({ kind: 'synced', revision: 1 });
        await floatVar(store, sid, 'y');
        await store.updateVariable(sid, 'x', 0.9);
        await store.rollbackVariable(sid, 'x', 0);
        await store.deleteVariable(sid, 'y');
        const events: WatchEvent[] = [];
        for (let i = 0; i < 4; i++) events.push((await w.next()).value as WatchEvent);
        expect(events.map((e) => [e.kind, e.revision, e.variable?.name])).toEqual([
          ['created', 2, 'y'],
          ['updated', 3, 'x'],
          ['rolled_back', 4, 'x'],
          ['deleted', 5, 'y'],
        ]);
        expect(events[2]?.variable?.value).toBe(0.5);
        await w.return?.();
      });

      it('should send initial values ordered by name, filtered by names', async () => {
        const { store, sid } = await withSession();
        for (const n of ['b', 'a', 'c']) await floatVar(store, sid, n);
        const w = store.watch(sid, { includeInitial: true, names: ['c', 'a', 'missing'] })[Symbol.asyncIterator]();
        const first = [(await w.next()).value, (await w.next()).value, (await w.next()).value] as WatchEvent[];
        expect(first.map((e) => [e.kind, e.revision, e.variable?.name])).toEqual([
          ['initial', 3, 'a'],
          ['initial', 3, 'c'],
          ['synced', 3, undefined],
        ]);
        await store.updateVariable(sid, 'b', 0.1);
        await store.updateVariable(sid, 'c', 0.2);
        const e = (await w.next()).value as WatchEvent;
        expect([e.kind, e.revision, e.variable?.name]).toEqual(['updated', 5, 'c']);
        await w.return?.();
      });

      it('should resume from a revision, and fail with Compacted before the window', async () => {
        const { store, sid } = await withSession({ watchWindow: 5 });
        await floatVar(store, sid, 'x', 0);
        for (let i = 1; i <= 9; i++) await store.updateVariable(sid, 'x', i / 10);
        // revisions 1..10; the window holds 6..10, so resuming after 5 works, after 4 does not.
        const w = store.watch(sid, { sinceRevision: 7 })[Symbol.asyncIterator]();
        const got: WatchEvent[] = [];
        for (let i = 0; i < 4; i++) got.push((await w.next()).value as WatchEvent);
        expect(got.map((e) => [e.kind, e.revision])).toEqual([
          ['updated', 8],
          ['updated', 9],
          ['updated', 10],
          ['synced', 10],
        ]);
        await w.return?.();
        const ok = store.watch(sid, { sinceRevision: 5 })[Symbol.asyncIterator]();
        expect((await ok.next()).value?.revision).toBe(6);
        await ok.return?.();
        const err = await storeErrorOf(
          () => store.watch(sid, { sinceRevision: 4 })[Symbol.asyncIterator]().next(),
          'Compacted',
        );
        expect(err.oldestRevision).toBe(6);
        await storeErrorOf(
          () => store.watch(sid, { sinceRevision: 11 })[Symbol.asyncIterator]().next(),
          'InvalidArgument',
        );
        const current = store.watch(sid, { sinceRevision: 10 })[Symbol.asyncIterator]();
        expect((await current.next()).value).toEqual({ kind: 'synced', revision: 10 });
        await current.return?.();
      });

      it('should end a watcher that falls behind with a resumable WatcherOverflow', async () => {
        const { store, sid } = await withSession({ watcherBufferSize: 4 });
        await floatVar(store, sid, 'x', 0);
        const w = store.watch(sid)[Symbol.asyncIterator]();
        expect((await w.next()).value).toEqual({ kind: 'synced', revision: 1 });
        await store.updateVariable(sid, 'x', 0.1);
        expect((await w.next()).value?.revision).toBe(2);
        for (let i = 2; i <= 9; i++) await store.updateVariable(sid, 'x', i / 10);
        const err = await storeErrorOf(() => w.next(), 'WatcherOverflow');
        expect(err.lastRevision).toBe(2);
        expect((await w.next()).done).toBe(true);
        const resumed = store.watch(sid, { sinceRevision: err.lastRevision })[Symbol.asyncIterator]();
        const revisions: number[] = [];
        for (let i = 0; i < 8; i++) revisions.push(((await resumed.next()).value as WatchEvent).revision);
        expect(revisions).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
        expect((await resumed.next()).value?.kind).toBe('synced');
        await resumed.return?.();
      });

      it('should end cleanly at once when the signal is aborted, and free the watcher slot', async () => {
        const { store, sid } = await withSession({ maxWatchersPerSession: 1 });
        const ac = new AbortController();
        const w = store.watch(sid, { signal: ac.signal })[Symbol.asyncIterator]();
        expect((await w.next()).value?.kind).toBe('synced');
        const pending = w.next();
        const full = await storeErrorOf(() => store.watch(sid)[Symbol.asyncIterator]().next(), 'ResourceExhausted');
        expect(full.limit).toBe('maxWatchersPerSession');
        ac.abort();
        expect((await pending).done).toBe(true);
        const again = store.watch(sid)[Symbol.asyncIterator]();
        expect((await again.next()).value?.kind).toBe('synced');
        await again.return?.();
        const third = store.watch(sid)[Symbol.asyncIterator]();
        expect((await third.next()).value?.kind).toBe('synced');
        await third.return?.();
        const preAborted = store.watch(sid, { signal: AbortSignal.abort() })[Symbol.asyncIterator]();
        expect((await preAborted.next()).done).toBe(true);
      });

      it('should work with for-await and break', async () => {
        const { store, sid } = await withSession({ maxWatchersPerSession: 1 });
        await floatVar(store, sid, 'x', 0);
        const seen: string[] = [];
        const loop = (async () => {
          for await (const e of store.watch(sid)) {
            seen.push(e.kind);
            if (e.kind === 'synced') await store.updateVariable(sid, 'x', 0.3);
            if (e.kind === 'updated') break;
          }
        })();
        await loop;
        expect(seen).toEqual(['synced', 'updated']);
        const next = store.watch(sid)[Symbol.asyncIterator]();
        expect((await next.next()).value?.kind).toBe('synced');
        await next.return?.();
      });

      it('should fan out one change to many watchers', async () => {
        const { store, sid } = await withSession();
        await floatVar(store, sid, 'x', 0);
        const watchers = Array.from({ length: 50 }, () => store.watch(sid)[Symbol.asyncIterator]());
        for (const w of watchers) expect((await w.next()).value?.kind).toBe('synced');
        await store.updateVariable(sid, 'x', 0.5);
        for (const w of watchers) {
          const e = (await w.next()).value as WatchEvent;
          expect([e.kind, e.revision, e.variable?.value]).toEqual(['updated', 2, 0.5]);
          await w.return?.();
        }
      });

      it('should end every watcher with StoreClosed when the store closes', async () => {
        const { store, sid } = await withSession();
        const w = store.watch(sid)[Symbol.asyncIterator]();
        expect((await w.next()).value?.kind).toBe('synced');
        const pending = w.next();
        await store.close();
        await storeErrorOf(() => pending, 'StoreClosed');
        await storeErrorOf(() => store.getSession(sid), 'StoreClosed');
      });
    });

    describe('tools', () => {
      it('should keep session tools isolated and global tools visible everywhere', async () => {
        const { store } = await make();
        await store.createSession({ id: 's1' });
        await store.createSession({ id: 's2' });
        const t = await store.registerTool('s1', {
          name: 'search',
          owner: 'worker-1',
          description: 'finds things',
          parameters: { type: 'object' },
          streaming: true,
          metadata: { v: '1' },
        });
        expectFields(t, {
          name: 'search',
          owner: 'worker-1',
          global: false,
          sessionId: 's1',
          streaming: true,
          description: 'finds things',
        });
        expect(t.parameters).toEqual({ type: 'object' });
        expect(t.metadata).toEqual({ v: '1' });
        await store.registerTool(null, { name: 'add', owner: 'host' });
        expect((await store.getTool('s1', 'search')).owner).toBe('worker-1');
        await storeErrorOf(() => store.getTool('s2', 'search'), 'ToolNotFound');
        expect((await store.getTool('s2', 'add')).global).toBe(true);
        const listed = await store.listTools('s1');
        expect(listed.tools.map((x) => x.name)).toEqual(['add', 'search']);
        expect((await store.getSession('s1')).toolCount).toBe(2);
        expect((await store.getSession('s2')).toolCount).toBe(1);
        const p1 = await store.listTools('s1', { pageSize: 1 });
        const p2 = await store.listTools('s1', { pageSize: 1, pageToken: p1.nextPageToken });
        expect([p1.tools[0]?.name, p2.tools[0]?.name, p2.nextPageToken]).toEqual(['add', 'search', '']);
      });

      it('should refuse duplicates unless the same owner replaces its tool', async () => {
        const { store, sid } = await withSession();
        await store.registerTool(sid, { name: 't', owner: 'w1', description: 'one' });
        const replaced = await store.registerTool(sid, { name: 't', owner: 'w1', description: 'two' });
        expect(replaced.description).toBe('two');
        expect((await store.getTool(sid, 't')).description).toBe('two');
        await storeErrorOf(() => store.registerTool(sid, { name: 't', owner: 'w2' }), 'AlreadyExists');
        await store.registerTool(null, { name: 'g', owner: 'host' });
        await storeErrorOf(() => store.registerTool(sid, { name: 'g', owner: 'host' }), 'AlreadyExists');
        await storeErrorOf(() => store.registerTool(null, { name: 't', owner: 'host' }), 'AlreadyExists');
        await storeErrorOf(() => store.registerTool(sid, { name: 'bad name', owner: 'host' }), 'InvalidArgument');
        await storeErrorOf(() => store.registerTool(sid, { name: 'x', owner: '' }), 'InvalidArgument');
      });

      it('should unregister by owner and remove every tool of an owner', async () => {
        const { store, sid } = await withSession();
        await store.registerTool(sid, { name: 'a', owner: 'w1' });
        await store.registerTool(sid, { name: 'b', owner: 'w1' });
        await store.registerTool(sid, { name: 'c', owner: 'w2' });
        await store.registerTool(null, { name: 'g', owner: 'w1' });
        await storeErrorOf(() => store.unregisterTool(sid, 'c', 'w1'), 'ToolNotFound');
        await store.unregisterTool(sid, 'c', 'w2');
        await storeErrorOf(() => store.getTool(sid, 'c'), 'ToolNotFound');
        expect(await store.removeToolsOf('w1')).toBe(3);
        expect((await store.listTools(sid)).tools).toEqual([]);
      });

      it('should enforce maxToolsPerSession', async () => {
        const { store, sid } = await withSession({ maxToolsPerSession: 2 });
        await store.registerTool(sid, { name: 'a', owner: 'host' });
        await store.registerTool(sid, { name: 'b', owner: 'host' });
        await store.registerTool(sid, { name: 'b', owner: 'host', description: 'replace is fine' });
        const err = await storeErrorOf(
          () => store.registerTool(sid, { name: 'c', owner: 'host' }),
          'ResourceExhausted',
        );
        expect(err.limit).toBe('maxToolsPerSession');
      });
    });

    describe('model', () => {
      it('should behave like a simple reference model (fast-check commands)', async () => {
        const names = ['a', 'b', 'ab'];
        const nameArb = fc.constantFrom(...names);
        const valueArb = fc.integer({ min: -5, max: 105 });
        await fc.assert(
          fc.asyncProperty(
            fc.commands(
              [
                fc.tuple(nameArb, valueArb).map(([n, v]) => new RegisterCmd(n, v)),
                fc
                  .tuple(nameArb, valueArb, fc.option(fc.nat(4), { nil: undefined }))
                  .map(([n, v, e]) => new UpdateCmd(n, v, e)),
                nameArb.map((n) => new DeleteCmd(n)),
                nameArb.map((n) => new GetCmd(n)),
                fc.constantFrom('*', 'a*', '?', '*b', 'a?').map((p) => new ListCmd(p)),
                fc
                  .tuple(fc.subarray(names, { minLength: 1 }), valueArb, fc.boolean())
                  .map(([ns, v, atomic]) => new BatchCmd(ns, v, atomic)),
                fc.tuple(nameArb, fc.nat(4)).map(([n, version]) => new RollbackCmd(n, version)),
              ],
              { maxCommands: 60, size: 'max' },
            ),
            async (cmds) => {
              const { store } = await make({ historyDepth: 3 });
              const session = await store.createSession();
              const real: Real = { store, sid: session.id };
              const model: Model = { vars: new Map(), revision: 0 };
              await fc.asyncModelRun(() => ({ model, real }), cmds);
              await store.close();
            },
          ),
          { numRuns: options.modelRuns ?? 100 },
        );
      }, 60_000);
    });
  });

  // A partial object match without depending on expect.objectContaining typings.
  function expectFields(actual: object, expected: Record<string, unknown>): void {
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys(expected)) picked[key] = (actual as Record<string, unknown>)[key];
    expect(picked).toEqual(expected);
  }

  // ---------------------------------------------------------------- model test

  interface ModelVar {
    value: number;
    version: number;
    /** Retained versions (depth 3: current plus two past), newest first. */
    history: { version: number; value: number }[];
  }
  interface Model {
    vars: Map<string, ModelVar>;
    revision: number;
  }
  interface Real {
    store: SessionStore;
    sid: string;
  }
  const inRange = (v: number) => v >= 0 && v <= 100;
  const write = (m: Model, mv: ModelVar, value: number) => {
    mv.version++;
    mv.value = value;
    mv.history.unshift({ version: mv.version, value });
    mv.history.length = Math.min(mv.history.length, 3);
    m.revision++;
  };
  const expectVar = (rec: StoredVariable, name: string, mv: ModelVar, m: Model) => {
    expect([rec.name, num(rec.value), rec.version]).toEqual([name, mv.value, mv.version]);
    expect(rec.revision).toBeLessThanOrEqual(m.revision);
  };

  class RegisterCmd implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly name: string,
      readonly value: number,
    ) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const call = () =>
        r.store.registerVariable(r.sid, {
          name: this.name,
          type: 'integer',
          value: this.value,
          constraints: { min: 0, max: 100 },
        });
      if (m.vars.has(this.name)) {
        await storeErrorOf(call, 'AlreadyExists');
      } else if (!inRange(this.value)) {
        await storeErrorOf(call, 'ValidationFailed');
      } else {
        const rec = await call();
        m.revision++;
        const mv = { value: this.value, version: 0, history: [{ version: 0, value: this.value }] };
        m.vars.set(this.name, mv);
        expectVar(rec, this.name, mv, m);
        expect(rec.revision).toBe(m.revision);
      }
    }
    toString = () => `register(${this.name}, ${this.value})`;
  }

  class UpdateCmd implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly name: string,
      readonly value: number,
      readonly expectedVersion: number | undefined,
    ) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const call = () =>
        r.store.updateVariable(r.sid, this.name, this.value, { expectedVersion: this.expectedVersion });
      const mv = m.vars.get(this.name);
      if (mv === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
      if (this.expectedVersion !== undefined && this.expectedVersion !== mv.version) {
        const err = await storeErrorOf(call, 'VersionConflict');
        expect(err.currentVersion).toBe(mv.version);
        return;
      }
      if (!inRange(this.value)) return void (await storeErrorOf(call, 'ValidationFailed'));
      const rec = await call();
      write(m, mv, this.value);
      expectVar(rec, this.name, mv, m);
      expect(rec.revision).toBe(m.revision);
    }
    toString = () => `update(${this.name}, ${this.value}, expected ${String(this.expectedVersion)})`;
  }

  class DeleteCmd implements fc.AsyncCommand<Model, Real> {
    constructor(readonly name: string) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const call = () => r.store.deleteVariable(r.sid, this.name);
      if (!m.vars.has(this.name)) return void (await storeErrorOf(call, 'VariableNotFound'));
      await call();
      m.vars.delete(this.name);
      m.revision++;
    }
    toString = () => `delete(${this.name})`;
  }

  class GetCmd implements fc.AsyncCommand<Model, Real> {
    constructor(readonly name: string) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const call = () => r.store.getVariable(r.sid, this.name);
      const mv = m.vars.get(this.name);
      if (mv === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
      const rec = await call();
      expectVar(rec, this.name, mv, m);
      expect((await r.store.getVariable(r.sid, rec.id)).name).toBe(this.name);
      const h = await r.store.getHistory(r.sid, this.name);
      expect(h.map((e) => [e.version, num(e.value)])).toEqual(mv.history.map((e) => [e.version, e.value]));
      expect((await r.store.getSession(r.sid)).revision).toBe(m.revision);
    }
    toString = () => `get(${this.name})`;
  }

  class ListCmd implements fc.AsyncCommand<Model, Real> {
    constructor(readonly pattern: string) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const re = new RegExp(`^${this.pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`);
      const expected = [...m.vars.keys()].filter((n) => re.test(n)).sort();
      const got: string[] = [];
      let pageToken = '';
      do {
        const page = await r.store.listVariables(r.sid, { pattern: this.pattern, pageSize: 1, pageToken });
        got.push(...page.variables.map((v) => v.name));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(got).toEqual(expected);
    }
    toString = () => `list(${this.pattern})`;
  }

  class BatchCmd implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly names: string[],
      readonly value: number,
      readonly atomic: boolean,
    ) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      // Values differ per entry so a half-applied batch would show.
      const updates = this.names.map((n, i) => ({ identifier: n, value: this.value + i }));
      const call = () => r.store.updateVariables(r.sid, updates, { atomic: this.atomic });
      const fails = updates.filter((u) => !m.vars.has(u.identifier) || !inRange(u.value));
      if (this.atomic) {
        if (fails.length > 0) {
          let err: unknown;
          try {
            await call();
          } catch (e) {
            err = e;
          }
          expect(isStoreError(err)).toBe(true);
          expect((err as StoreError).violations.map((v) => v.field)).toEqual(fails.map((f) => f.identifier));
          return;
        }
        const res = await call();
        for (const u of updates) write(m, m.vars.get(u.identifier) as ModelVar, u.value);
        expect(res.every((x) => x.ok)).toBe(true);
        return;
      }
      const res = await call();
      res.forEach((x, i) => {
        const u = updates[i] as { identifier: string; value: number };
        const mv = m.vars.get(u.identifier);
        const shouldFail = mv === undefined || !inRange(u.value);
        expect(x.ok).toBe(!shouldFail);
        if (!shouldFail && mv !== undefined) write(m, mv, u.value);
      });
    }
    toString = () => `batch(${this.names.join(',')}, ${this.value}, atomic=${this.atomic})`;
  }

  class RollbackCmd implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly name: string,
      readonly version: number,
    ) {}
    check = () => true;
    async run(m: Model, r: Real): Promise<void> {
      const call = () => r.store.rollbackVariable(r.sid, this.name, this.version);
      const mv = m.vars.get(this.name);
      const old = mv?.history.find((h) => h.version === this.version);
      if (mv === undefined || old === undefined) return void (await storeErrorOf(call, 'VariableNotFound'));
      const rec = await call();
      write(m, mv, old.value);
      expectVar(rec, this.name, mv, m);
    }
    toString = () => `rollback(${this.name}, ${this.version})`;
  }
}
