/**
 * Order statistics of a set of samples (timings, sizes): count, min, max, mean, median and
 * nearest-rank percentiles, from one sorted copy. {@link Timings} and the project's benchmarks
 * both read their figures through it.
 */
export interface OrderStatistics {
  /** Number of samples. */
  readonly count: number;
  /** Smallest sample; `NaN` when empty. */
  readonly min: number;
  /** Largest sample; `NaN` when empty. */
  readonly max: number;
  /** Arithmetic mean, summed in ascending order; `NaN` when empty. */
  readonly mean: number;
  /** Median (the mean of the two middle samples for an even count); `NaN` when empty. */
  readonly median: number;
  /**
   * The `p`th percentile by nearest rank: the smallest sample such that at least `p`% of the
   * samples are <= it (`p` in 0..100, else a `RangeError`); `NaN` when empty.
   * @example orderStatistics([3, 1, 2]).percentile(50) // 2
   */
  percentile(p: number): number;
}

/**
 * Sorts a copy of `samples` (ascending; the input is never changed) and returns its
 * {@link OrderStatistics}. Sort once, read as many statistics as you like.
 *
 * @example
 * const stats = orderStatistics(latenciesMs);
 * console.log(stats.median, stats.percentile(99));
 */
export function orderStatistics(samples: readonly number[]): OrderStatistics {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const mid = n >> 1;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n === 0 ? Number.NaN : sorted[0]!,
    max: n === 0 ? Number.NaN : sorted[n - 1]!,
    mean: n === 0 ? Number.NaN : sum / n,
    median: n === 0 ? Number.NaN : n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
    percentile(p: number): number {
      if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
        throw new RangeError(`percentile(p): p must be between 0 and 100, got ${String(p)}`);
      }
      if (n === 0) return Number.NaN;
      return sorted[Math.max(1, Math.ceil((p / 100) * n)) - 1]!;
    },
  };
}
