import { BridgeError, toBridgeError, toBridgeErrorFor } from './errors.js';

/**
 * Retry policy of idempotent calls (reads, CAS-guarded writes): exponential
 * backoff with jitter on `Unavailable` (and `RateLimited` for reads), never
 * shorter than the delay the server asks for.
 *
 * @example
 * ```ts
 * createBridgeClient({ baseUrl, protocol: 'grpc', retry: { maxAttempts: 6, initialDelayMs: 20 } });
 * ```
 */
export interface RetryOptions {
  /** Attempts in all, the first one included. Default 4. `1` disables retries. */
  maxAttempts?: number;
  /** Delay before the first retry, in milliseconds. Default 50. */
  initialDelayMs?: number;
  /** Upper bound of one delay (before the server's own retry delay), in milliseconds. Default 2000. */
  maxDelayMs?: number;
  /** Growth factor of the delay per attempt. Default 2. */
  multiplier?: number;
  /** Random spread of each delay as a fraction of it (0..1): 0.2 is ±20 %. Default 0.2. */
  jitter?: number;
}

/** A validated {@link RetryOptions} with every default filled in. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

/** The policy used when `retry` is not given. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 4,
  initialDelayMs: 50,
  maxDelayMs: 2000,
  multiplier: 2,
  jitter: 0.2,
});

/** The policy of `retry: false`: one attempt. */
export const NO_RETRY: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY, maxAttempts: 1 });

/** The range a retry option must be in: `[min, max]`, whole numbers only with `integer`. */
interface NumberRange {
  readonly min: number;
  readonly max?: number;
  readonly integer?: boolean;
}

function checkNumber(name: string, v: unknown, { min, max = Infinity, integer = false }: NumberRange): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new RangeError(
      `retry.${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(v)}`,
    );
  }
}

/** Validates retry options (RangeError naming the option) and fills in defaults. */
export function resolveRetryPolicy(retry: RetryOptions | boolean | undefined): RetryPolicy {
  if (retry === undefined || retry === true) return DEFAULT_RETRY;
  if (retry === false) return NO_RETRY;
  if (typeof retry !== 'object' || retry === null) {
    throw new TypeError(`retry must be false, true or an object of RetryOptions, got ${String(retry)}`);
  }
  const p = { ...DEFAULT_RETRY, ...stripUndefined(retry) };
  checkNumber('maxAttempts', p.maxAttempts, { min: 1, max: 100, integer: true });
  checkNumber('initialDelayMs', p.initialDelayMs, { min: 0 });
  checkNumber('maxDelayMs', p.maxDelayMs, { min: 0 });
  checkNumber('multiplier', p.multiplier, { min: 1 });
  checkNumber('jitter', p.jitter, { min: 0, max: 1 });
  return Object.freeze(p);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The delay before retry number `retry` (1-based), jittered, at least the server's delay. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, serverDelayMs?: number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (retry - 1));
  const spread = base * policy.jitter;
  const delay = base - spread + Math.random() * 2 * spread;
  return Math.max(Math.round(delay), serverDelayMs ?? 0);
}

/** Options of {@link sleep}. */
export interface SleepOptions {
  /**
   * Whether the timer lets the process exit while it waits. Default true: a
   * retry backoff never keeps a finished program alive. A wait that a caller
   * awaits to its end (`worker.stop()`) passes false.
   */
  readonly unref?: boolean;
}

/**
 * Waits `ms` milliseconds (on an unref'd timer unless `unref: false`);
 * rejects with a `Cancelled` BridgeError as soon as `signal` aborts.
 */
export function sleep(ms: number, signal?: AbortSignal, options: SleepOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options.unref ?? true) (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `Cancelled` error of an aborted signal (the reason is kept as `cause`). */
export function cancelled(signal?: AbortSignal): BridgeError {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return toBridgeError(reason);
  return new BridgeError('Cancelled', 'the call was cancelled', { cause: reason });
}

/** Options of {@link withRetry}. */
export interface AttemptOptions {
  /** The whole call's deadline in ms from now (all attempts and waits); undefined: none. */
  timeoutMs: number | undefined;
  /** Aborts the call and any wait. */
  signal: AbortSignal | undefined;
  /** Decides whether a failure may be retried. */
  retryable: (err: BridgeError) => boolean;
  /**
   * Turns what an attempt threw into a BridgeError. Default: {@link toBridgeErrorFor}
   * with `signal` (an unasked-for `Cancelled` is a transport failure, `Unavailable`).
   */
  toError?: (err: unknown) => BridgeError;
  /** The wait between attempts. Default {@link sleep} (an unref'd timer that `signal` aborts). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, runs
 * out of attempts or the deadline passes. Each attempt gets the time left.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  opts: AttemptOptions,
  attempt: (timeoutMs: number | undefined) => Promise<T>,
): Promise<T> {
  const { signal } = opts;
  const toError = opts.toError ?? ((e: unknown) => toBridgeErrorFor(e, signal));
  const wait = opts.sleep ?? sleep;
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  if (signal?.aborted) throw cancelled(signal);
  for (let n = 1; ; n++) {
    const left = deadline === undefined ? undefined : deadline - Date.now();
    try {
      return await attempt(left === undefined ? undefined : Math.max(1, left));
    } catch (e) {
      const err = toError(e);
      if (signal?.aborted && err.type !== 'Cancelled' && err.type !== 'DeadlineExceeded') {
        const c = cancelled(signal);
        throw new BridgeError(c.type, c.message, { cause: err });
      }
      if (n >= policy.maxAttempts || signal?.aborted || !opts.retryable(err)) throw err;
      const delay = backoffDelayMs(policy, n, err.retryDelayMs);
      if (deadline !== undefined && Date.now() + delay >= deadline) throw err;
      try {
        await wait(delay, signal);
      } catch (w) {
        throw signal?.aborted ? cancelled(signal) : toBridgeError(w);
      }
    }
  }
}
