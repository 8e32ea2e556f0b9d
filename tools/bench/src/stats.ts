/**
 * Order statistics over timing samples. Every function takes samples in any
 * order and never mutates its input. Medians and percentiles come from
 * `orderStatistics` of @unified-bridge/testing (one implementation for the
 * benchmarks and the test harness's Timings).
 */
import { orderStatistics } from '@unified-bridge/testing';

/** Summary of a sample set, in the samples' own unit. */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
  /** Median (mean of the two middle samples for an even count). */
  median: number;
  /** 99th percentile, nearest-rank method. */
  p99: number;
}

/**
 * Nearest-rank percentile `p` (0 < p <= 100) of the samples: the smallest
 * sample such that at least p% of the samples are <= it.
 * @throws RangeError on an empty sample set or p outside (0, 100].
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile: no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p must be in (0, 100], got ${p}`);
  return orderStatistics(samples).percentile(p);
}

/**
 * Median of the samples (mean of the two middle samples for an even count).
 * @throws RangeError on an empty sample set.
 */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median: no samples');
  return orderStatistics(samples).median;
}

/**
 * Summarises samples: n, min, max, mean, median, p99.
 * @throws RangeError on an empty sample set.
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const stats = orderStatistics(samples);
  return {
    n: stats.count,
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    median: stats.median,
    p99: stats.percentile(99),
  };
}

/** One bin of a histogram: samples v with lo <= v < hi (the last bin includes hi). */
export interface Bin {
  lo: number;
  hi: number;
  count: number;
}

/**
 * Histogram with logarithmically spaced bins between the smallest and largest
 * positive sample (timings span orders of magnitude: cache hits vs round
 * trips). Non-positive samples go to the first bin.
 */
export function logHistogram(samples: readonly number[], bins = 40): Bin[] {
  if (samples.length === 0) return [];
  const positive = samples.filter((v) => v > 0);
  const lo = positive.length > 0 ? Math.min(...positive) : 1;
  const hi = positive.length > 0 ? Math.max(...positive) : 1;
  const logLo = Math.log10(lo);
  const logHi = hi > lo ? Math.log10(hi) : logLo + 1;
  const width = (logHi - logLo) / bins;
  const out: Bin[] = [];
  for (let i = 0; i < bins; i++) {
    out.push({ lo: 10 ** (logLo + i * width), hi: 10 ** (logLo + (i + 1) * width), count: 0 });
  }
  for (const v of samples) {
    const idx = v > 0 ? Math.floor((Math.log10(v) - logLo) / width) : 0;
    out[Math.min(bins - 1, Math.max(0, idx))]!.count++;
  }
  return out;
}

/**
 * Least-squares slope and R² of y over x, used to tell whether batch cost
 * grows linearly with batch size.
 */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number; r2: number } {
  if (xs.length !== ys.length || xs.length < 2) throw new RangeError('linearFit: need two or more (x, y) pairs');
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}
