/**
 * Timing loops. Every loop records per-operation wall time with
 * `process.hrtime.bigint()`, and CPU time of the bench process and (when a
 * source is given) of the server process around the measured part.
 */
import { selfCpu, type CpuSource } from './cpu.js';
import type { CaseResult, Unit } from './results.js';
import { summarize } from './stats.js';

/** Raw outcome of a timing loop. */
export interface Measurement {
  /** Per-operation wall time, microseconds. */
  samplesUs: number[];
  /** Operations performed in the measured part. */
  ops: number;
  /** Wall time of the measured part, microseconds (for throughput). */
  wallUs: number;
  /** CPU time of the bench process over the measured part, microseconds. */
  cpuClientUs: number;
  /** CPU time of the server over the measured part, microseconds; null without a source. */
  cpuServerUs: number | null;
  /** CPU time of a tool-worker process over the measured part, microseconds; absent without a source. */
  cpuWorkerUs?: number;
}

/** The measurements of several rounds of one case, as one (samples in order, totals added up). */
export function mergeMeasurements(parts: readonly Measurement[]): Measurement {
  const sum = (f: (m: Measurement) => number): number => parts.reduce((n, m) => n + f(m), 0);
  const server = parts.every((m) => m.cpuServerUs !== null) ? sum((m) => m.cpuServerUs!) : null;
  return {
    samplesUs: parts.flatMap((m) => m.samplesUs),
    ops: sum((m) => m.ops),
    wallUs: sum((m) => m.wallUs),
    cpuClientUs: sum((m) => m.cpuClientUs),
    cpuServerUs: server,
  };
}

/** A case of one figure that is no timing loop (a ratio, a percentage, a size): no p99, throughput or CPU. */
export function scalarCase(
  c: Pick<CaseResult, 'name' | 'unit' | 'median' | 'group'> &
    Partial<Pick<CaseResult, 'better' | 'protocol' | 'extra'>>,
): CaseResult {
  return {
    p99: null,
    opsPerSec: null,
    cpuUsPerOpClient: null,
    cpuUsPerOpServer: null,
    ratioToFloor: null,
    better: 'lower',
    ...c,
  };
}

/** Options of {@link measureSerial}. */
export interface SerialOptions {
  /** Measured iterations. */
  iterations: number;
  /** Unmeasured iterations run first (JIT, connection set-up). Default 0. */
  warmup?: number;
  /** Server CPU source. */
  server?: CpuSource;
  /** CPU source of a third process taking part in each operation (a tool worker). */
  worker?: CpuSource;
  /** Runs before each iteration, outside the timed part and the client CPU figure (for example a cache clear). */
  prepare?: (i: number) => unknown;
}

const nowUs = (): number => Number(process.hrtime.bigint()) / 1e3;

async function cpuPair(server?: CpuSource): Promise<[number, number | null]> {
  return [await selfCpu.cpuUs(), server ? await server.cpuUs() : null];
}

function workerCpu(w0: number | undefined, w1: number | undefined): { cpuWorkerUs?: number } {
  return w0 === undefined || w1 === undefined ? {} : { cpuWorkerUs: w1 - w0 };
}

/**
 * Runs `op` one at a time (1 in flight) and times each call. Throughput is
 * iterations divided by the sum of the timed parts, so `prepare` is excluded.
 */
export async function measureSerial(op: (i: number) => unknown, options: SerialOptions): Promise<Measurement> {
  const warmup = options.warmup ?? 0;
  for (let i = 0; i < warmup; i++) {
    await options.prepare?.(i);
    await op(i);
  }
  const samples = new Array<number>(options.iterations);
  const w0 = await options.worker?.cpuUs();
  const [c0, s0] = await cpuPair(options.server);
  let sum = 0;
  // With a prepare step, client CPU is summed over the timed parts only (two
  // cpuUsage() calls per iteration, about a microsecond), so a cache clear
  // does not count as the operation's cost.
  let prepCpu = 0;
  for (let i = 0; i < options.iterations; i++) {
    if (options.prepare) {
      const p0 = process.cpuUsage();
      await options.prepare(warmup + i);
      const p = process.cpuUsage(p0);
      prepCpu += p.user + p.system;
    }
    const t0 = process.hrtime.bigint();
    await op(warmup + i);
    const d = Number(process.hrtime.bigint() - t0) / 1e3;
    samples[i] = d;
    sum += d;
  }
  const [c1, s1] = await cpuPair(options.server);
  const w1 = await options.worker?.cpuUs();
  return {
    samplesUs: samples,
    ops: options.iterations,
    wallUs: sum,
    cpuClientUs: c1 - c0 - prepCpu,
    cpuServerUs: s0 === null || s1 === null ? null : s1 - s0,
    ...workerCpu(w0, w1),
  };
}

/** Options of {@link measureBatched}. */
export interface BatchedOptions {
  /** Number of timed batches (samples). */
  batches: number;
  /** Calls per batch; each sample is batch time / perBatch. */
  perBatch: number;
  /** Unmeasured batches run first. Default 1. */
  warmupBatches?: number;
  /** Server CPU source. */
  server?: CpuSource;
}

/**
 * Times `op` in batches of `perBatch` calls, for operations too short to
 * time one by one (cache hits, validations). A synchronous result is not
 * awaited, so the loop measures what a caller pays.
 */
export async function measureBatched(op: (i: number) => unknown, options: BatchedOptions): Promise<Measurement> {
  const { perBatch } = options;
  let k = 0;
  for (let b = 0; b < (options.warmupBatches ?? 1); b++) {
    for (let i = 0; i < perBatch; i++) {
      const r = op(k++);
      if (r instanceof Promise) await r;
    }
  }
  const samples = new Array<number>(options.batches);
  const [c0, s0] = await cpuPair(options.server);
  const start = nowUs();
  for (let b = 0; b < options.batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) {
      const r = op(k++);
      if (r instanceof Promise) await r;
    }
    samples[b] = Number(process.hrtime.bigint() - t0) / 1e3 / perBatch;
  }
  const wallUs = nowUs() - start;
  const [c1, s1] = await cpuPair(options.server);
  return {
    samplesUs: samples,
    ops: options.batches * perBatch,
    wallUs,
    cpuClientUs: c1 - c0,
    cpuServerUs: s0 === null || s1 === null ? null : s1 - s0,
  };
}

/** Options of {@link measureConcurrent}. */
export interface ConcurrentOptions {
  /** Concurrent workers (async loops in this process). */
  workers: number;
  /** Operations each worker performs. */
  perWorker: number;
  /** Unmeasured operations per worker first. Default 0. */
  warmupPerWorker?: number;
  /** Server CPU source. */
  server?: CpuSource;
  /** CPU source of a third process taking part in each operation (a tool worker). */
  worker?: CpuSource;
}

/**
 * Runs `workers` async loops at once, each performing `perWorker` calls of
 * `op(worker, i)` one after another. Samples are per call; throughput is all
 * calls over the wall time from start until the last worker finishes.
 */
export async function measureConcurrent(
  op: (worker: number, i: number) => Promise<unknown>,
  options: ConcurrentOptions,
): Promise<Measurement> {
  const { workers, perWorker } = options;
  const warm = options.warmupPerWorker ?? 0;
  if (warm > 0) {
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; i < warm; i++) await op(w, i);
      }),
    );
  }
  const samples: number[] = [];
  const w0 = await options.worker?.cpuUs();
  const [c0, s0] = await cpuPair(options.server);
  const start = nowUs();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) {
        const t0 = process.hrtime.bigint();
        await op(w, warm + i);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }),
  );
  const wallUs = nowUs() - start;
  const [c1, s1] = await cpuPair(options.server);
  const w1 = await options.worker?.cpuUs();
  return {
    samplesUs: samples,
    ops: workers * perWorker,
    wallUs,
    cpuClientUs: c1 - c0,
    cpuServerUs: s0 === null || s1 === null ? null : s1 - s0,
    ...workerCpu(w0, w1),
  };
}

/** What {@link toCase} needs besides the measurement. */
export interface CaseMeta {
  name: string;
  group: string;
  /** Unit to report median/p99 in. Default `us`. */
  unit?: Unit;
  protocol?: CaseResult['protocol'];
  /** Floor case for the ratio (default the raw HTTP/2 round trip). */
  floor?: string;
  extra?: CaseResult['extra'];
}

const FROM_US: Partial<Record<Unit, number>> = { ns: 1e3, us: 1, ms: 1e-3, s: 1e-6 };

/** Turns a measurement into a case (ratio filled later by `computeRatios`). */
export function toCase(m: Measurement, meta: CaseMeta): CaseResult {
  const unit = meta.unit ?? 'us';
  const f = FROM_US[unit];
  if (f === undefined) throw new TypeError(`toCase: ${unit} is not a time unit`);
  const s = summarize(m.samplesUs);
  const result: CaseResult = {
    name: meta.name,
    unit,
    median: s.median * f,
    p99: s.n > 1 ? s.p99 * f : null,
    max: s.max * f,
    opsPerSec: m.wallUs > 0 ? (m.ops * 1e6) / m.wallUs : null,
    cpuUsPerOpClient: m.cpuClientUs / m.ops,
    cpuUsPerOpServer: m.cpuServerUs === null ? null : m.cpuServerUs / m.ops,
    ratioToFloor: null,
    better: 'lower',
    group: meta.group,
    samples: s.n,
  };
  if (meta.floor !== undefined) result.floor = meta.floor;
  if (meta.protocol !== undefined) result.protocol = meta.protocol;
  if (meta.extra !== undefined || m.cpuWorkerUs !== undefined) {
    result.extra = {
      ...meta.extra,
      ...(m.cpuWorkerUs === undefined ? {} : { cpuUsPerOpWorker: m.cpuWorkerUs / m.ops }),
    };
  }
  return result;
}
