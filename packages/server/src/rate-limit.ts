// The per-session rate limit of tool calls: a token bucket per session.

/**
 * A per-session limit on tool calls (token bucket): `burst` calls at once,
 * refilled at `callsPerSecond`. Calls over it fail with RESOURCE_EXHAUSTED
 * RateLimited and a `retry_delay` saying when the next one is allowed.
 *
 * @example
 * startBridgeServer({ rateLimit: { callsPerSecond: 50, burst: 100 } });
 */
export interface RateLimitOptions {
  /** Sustained tool calls per second per session (> 0). */
  readonly callsPerSecond: number;
  /** Calls a session may make at once after being idle. Default: `callsPerSecond` rounded up (at least 1). */
  readonly burst?: number;
}

/** Validates rate-limit options, throwing a RangeError that names the option. */
export function validateRateLimit(o: RateLimitOptions): Required<RateLimitOptions> {
  if (typeof o !== 'object' || o === null) throw new TypeError('rateLimit must be { callsPerSecond, burst? }');
  if (typeof o.callsPerSecond !== 'number' || !Number.isFinite(o.callsPerSecond) || o.callsPerSecond <= 0) {
    throw new RangeError(`rateLimit.callsPerSecond must be a number > 0, got ${String(o.callsPerSecond)}`);
  }
  const burst = o.burst ?? Math.max(1, Math.ceil(o.callsPerSecond));
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError(`rateLimit.burst must be an integer >= 1, got ${String(o.burst)}`);
  }
  return { callsPerSecond: o.callsPerSecond, burst };
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by session id. Full buckets are dropped, so memory follows the active sessions. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: Required<RateLimitOptions>, now: () => number = () => performance.now()) {
    this.#rate = options.callsPerSecond / 1000; // tokens per ms
    this.#burst = options.burst;
    this.#now = now;
  }

  /** Takes one token of the session: 0 when allowed, else the ms until one is available. */
  take(sessionId: string): number {
    const now = this.#now();
    let b = this.#buckets.get(sessionId);
    if (b === undefined) {
      if (this.#buckets.size >= 10_000) this.#sweep(now);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(sessionId, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.#rate;
  }

  /** Forgets buckets that have refilled completely (they behave like new ones). */
  #sweep(now: number): void {
    for (const [id, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#rate >= this.#burst) this.#buckets.delete(id);
    }
  }
}
