/**
 * What every suite receives: the run's sizes, a place to record cases and
 * distributions, and progress output on stderr.
 */
import { isTimeUnit, toUs, type CaseResult, type Distribution } from './results.js';

/** Sizes of a run; `--quick` picks the small set. */
export interface BenchConfig {
  quick: boolean;
  /** Measured iterations of 1-in-flight unary cases. */
  unaryIterations: number;
  /** Warm-up iterations before each unary case. */
  warmup: number;
  /** Variables registered by the register case (also the pool for get/update). */
  registerCount: number;
  /** Worker counts of the concurrency cases. */
  workers: number[];
  /** Operations (get+set pairs) per concurrency case, split evenly over the workers. */
  concurrentOps: number;
  /** Repetitions of each batch case. */
  batchRepeats: number;
  /** Batch-get sizes. */
  batchGetSizes: number[];
  /** Accesses of the 80/20 pattern. */
  accesses: number;
  /** Variables in the large session (get latency 10 vs this many). */
  largeSession: number;
  /** Session sizes of the in-process store cases. */
  storeSizes: number[];
  /** Timed batches of in-process cases. */
  batches: number;
  /** Calls per timed batch of in-process cases. */
  perBatch: number;
  /** Watchers x updates of the watch fan-out case. */
  watchers: number;
  watchUpdates: number;
  /** Measured 10 MiB streams of the tool streaming cases (bridge and connect-node baseline each). */
  toolStreamRepeats: number;
  /** Calls in flight of the tool concurrency cases. */
  toolInFlight: number[];
  /** Tool calls per concurrency case, split evenly over the loops in flight. */
  toolConcurrentCalls: number;
  /** Calls of the tool batch cases (one callMany vs this many sequential calls). */
  toolBatchSize: number;
}

/** Full-run sizes (about ten minutes at most on a 2-core machine). */
export const FULL: BenchConfig = {
  quick: false,
  unaryIterations: 4000,
  warmup: 2000,
  registerCount: 1000,
  workers: [1, 5, 10, 20, 64],
  concurrentOps: 3200,
  batchRepeats: 30,
  batchGetSizes: [10, 100, 1000],
  accesses: 1000,
  largeSession: 1_000_000,
  storeSizes: [10, 10_000, 1_000_000],
  batches: 200,
  perBatch: 1000,
  watchers: 1000,
  watchUpdates: 10_000,
  toolStreamRepeats: 20,
  toolInFlight: [1, 10, 50, 100],
  toolConcurrentCalls: 4000,
  toolBatchSize: 50,
};

/** `--quick` sizes (under a minute), for development only: not comparable with a full run. */
export const QUICK: BenchConfig = {
  quick: true,
  unaryIterations: 400,
  warmup: 200,
  registerCount: 200,
  workers: [1, 5, 10, 20, 64],
  concurrentOps: 320,
  batchRepeats: 5,
  batchGetSizes: [10, 100, 1000],
  accesses: 1000,
  largeSession: 100_000,
  storeSizes: [10, 10_000, 100_000],
  batches: 30,
  perBatch: 500,
  watchers: 100,
  watchUpdates: 1000,
  toolStreamRepeats: 3,
  toolInFlight: [1, 10, 50, 100],
  toolConcurrentCalls: 400,
  toolBatchSize: 50,
};

/** Handed to each suite. */
export interface BenchContext {
  readonly config: BenchConfig;
  /** Records a case (ratios are computed at the end). */
  record(c: CaseResult): void;
  /** Keeps a latency histogram for the chart. */
  distribution(d: Distribution): void;
  /** Prints a progress line on stderr. */
  progress(message: string): void;
  /** Absolute path of a built script in dist/baselines (for forking). */
  script(name: string): URL;
}

/** Formats a number of microseconds for progress lines. */
export function fmtUs(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  if (us >= 1) return `${us.toFixed(1)} µs`;
  return `${(us * 1e3).toFixed(0)} ns`;
}

/** A case's median for progress lines: a time through {@link fmtUs}, else the value and its unit. */
export function fmtFigure(c: Pick<CaseResult, 'median' | 'unit'>): string {
  if (isTimeUnit(c.unit)) return fmtUs(toUs(c.median, c.unit));
  return `${c.median.toFixed(c.unit === 'bytes' ? 0 : 1)} ${c.unit}`;
}

/** Records a case and prints it as a progress line (median, ops/s, server and worker CPU per op). */
export function recordWithProgress(ctx: BenchContext, c: CaseResult): void {
  ctx.record(c);
  const ops = c.opsPerSec === null ? '' : `, ${c.opsPerSec.toFixed(0)} ops/s`;
  const cpu = c.cpuUsPerOpServer === null ? '' : `, server CPU ${c.cpuUsPerOpServer.toFixed(1)} µs/op`;
  const w = c.extra?.['cpuUsPerOpWorker'];
  const worker = typeof w === 'number' ? `, worker CPU ${w.toFixed(1)} µs/op` : '';
  ctx.progress(`${c.name}: ${fmtFigure(c)}${ops}${cpu}${worker}`);
}

/** Operations per worker for a concurrency case (at least 2). */
export function perWorker(config: BenchConfig, workers: number): number {
  return Math.max(2, Math.ceil(config.concurrentOps / workers));
}
