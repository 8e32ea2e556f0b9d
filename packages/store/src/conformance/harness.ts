// What every aspect of the conformance suite shares: the context given to the
// backend's factory, the manual clock, minimal Jest typings, and the helpers
// that open stores and sessions for a test.
import type { StoreLimits } from '../limits.js';
import type { Clock, SessionStore, StoredVariable } from '../session-store.js';
import { isStoreError, type StoreError, type StoreErrorType } from '../store-error.js';

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
export async function storeErrorOf(fn: () => Promise<unknown>, type: StoreErrorType): Promise<StoreError> {
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

/** A stored value as a number (integers are bigints). */
export const num = (v: unknown): number => Number(v);

/** What each aspect of the suite gets: the Jest globals, the options and the helpers bound to one backend. */
export interface Suite extends Omit<JestGlobals, 'afterEach'> {
  /** The options of {@link describeSessionStore}. */
  readonly options: ConformanceOptions;
  /** Opens a store with these limits (closed after the test). */
  make(limits?: Partial<StoreLimits>): Promise<{ store: SessionStore; clock: ManualClock }>;
  /** Opens a store with these limits and a session `"conformance"` in it. */
  withSession(limits?: Partial<StoreLimits>): Promise<{ store: SessionStore; clock: ManualClock; sid: string }>;
  /** Registers a float variable in [0, 1] (value 0.5 unless given). */
  floatVar(store: SessionStore, sid: string, varName: string, value?: number): Promise<StoredVariable>;
  /** A partial object match without depending on expect.objectContaining typings. */
  expectFields(actual: object, expected: Record<string, unknown>): void;
}

/**
 * Binds the helpers of the suite to one backend's factory and closes every
 * store a test opened after the test.
 */
export function createSuite(
  createStore: (context: ConformanceContext) => SessionStore | Promise<SessionStore>,
  options: ConformanceOptions,
): Suite {
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
  const expectFields = (actual: object, expected: Record<string, unknown>): void => {
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys(expected)) picked[key] = (actual as Record<string, unknown>)[key];
    expect(picked).toEqual(expected);
  };
  return { describe, it, expect, options, make, withSession, floatVar, expectFields };
}
