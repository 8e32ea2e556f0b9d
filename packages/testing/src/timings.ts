import { performance } from 'node:perf_hooks';
import { orderStatistics, type OrderStatistics } from './order-statistics.js';

/**
 * Collects durations in milliseconds and summarises them (min, median, p99, max), for tests
 * that want to print figures without asserting on them (timing claims belong to benchmarks).
 * Statistics of an empty collector are `NaN`.
 *
 * @example
 * const timings = new Timings('get');
 * for (let i = 0; i < 100; i++) await timings.time(() => session.get('x'));
 * console.log(timings.summary()); // "get: n=100 min=0.21ms median=0.30ms p99=1.10ms max=1.52ms"
 */
export class Timings {
  readonly #samples: number[] = [];
  #stats: OrderStatistics | undefined;

  /**
   * @param label - name printed by {@link Timings.summary}; default `"timings"`.
   */
  constructor(readonly label = 'timings') {}

  /** Adds one duration in milliseconds (a finite number >= 0, else a `RangeError`). */
  add(ms: number): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`Timings.add(ms): ms must be a finite number >= 0, got ${String(ms)}`);
    }
    this.#samples.push(ms);
    this.#stats = undefined;
    return this;
  }

  /**
   * Runs `fn`, adds how long it took (also when it throws) and returns its result.
   * @example const value = await timings.time(() => session.get('x'));
   */
  async time<T>(fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(performance.now() - start);
    }
  }

  /** Number of samples. */
  get count(): number {
    return this.#samples.length;
  }

  /** The samples in the order they were added (a copy). */
  get samples(): number[] {
    return [...this.#samples];
  }

  /** Smallest sample; `NaN` when empty. */
  get min(): number {
    return this.#ordered().min;
  }

  /** Largest sample; `NaN` when empty. */
  get max(): number {
    return this.#ordered().max;
  }

  /** Arithmetic mean; `NaN` when empty. */
  get mean(): number {
    const n = this.#samples.length;
    return n === 0 ? Number.NaN : this.#samples.reduce((a, b) => a + b, 0) / n;
  }

  /** Median (the mean of the two middle samples for an even count); `NaN` when empty. */
  get median(): number {
    return this.#ordered().median;
  }

  /** 99th percentile (nearest rank); `NaN` when empty. */
  get p99(): number {
    return this.percentile(99);
  }

  /**
   * The `p`th percentile by nearest rank (`p` in 0..100, else a `RangeError`); `NaN` when empty.
   * @example timings.percentile(95)
   */
  percentile(p: number): number {
    if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
      throw new RangeError(`Timings.percentile(p): p must be between 0 and 100, got ${String(p)}`);
    }
    return this.#ordered().percentile(p);
  }

  /** One line such as `get: n=100 min=0.21ms median=0.30ms p99=1.10ms max=1.52ms`. */
  summary(): string {
    if (this.count === 0) return `${this.label}: n=0 (no samples)`;
    const f = (ms: number): string => `${ms.toFixed(2)}ms`;
    return `${this.label}: n=${this.count} min=${f(this.min)} median=${f(this.median)} p99=${f(this.p99)} max=${f(this.max)}`;
  }

  /** The statistics as a plain object (for JSON reports). */
  toJSON(): { label: string; count: number; min: number; median: number; p99: number; max: number; mean: number } {
    return {
      label: this.label,
      count: this.count,
      min: this.min,
      median: this.median,
      p99: this.p99,
      max: this.max,
      mean: this.mean,
    };
  }

  #ordered(): OrderStatistics {
    this.#stats ??= orderStatistics(this.#samples);
    return this.#stats;
  }
}
