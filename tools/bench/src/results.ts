/**
 * The shape of bench-results/results.json and the ratio-to-floor computation.
 */

/** Units a case can be reported in. Time units are per operation; `MB/s` is a throughput (10^6 bytes per second). */
export type Unit = 'ns' | 'us' | 'ms' | 's' | 'bytes' | '%' | 'MB/s';

/** The case the bench treats as the floor: a raw node:http2 unary round trip, 1 in flight. */
export const FLOOR_CASE = 'floor.http2.unary';

/** One measured figure. Fields that do not apply to a case are null. */
export interface CaseResult {
  /** Stable case name, listed in tools/bench/README.md (for example `bridge.grpc.get.uncached`). */
  name: string;
  /** Unit of `median` and `p99`. */
  unit: Unit;
  /** Median per operation (or the figure itself for bytes and %). */
  median: number;
  /** 99th percentile per operation, nearest rank; null when the case has one sample. */
  p99: number | null;
  /** Largest sample per operation, in `unit` (timed cases only; absent for figures that are not samples). */
  max?: number;
  /** Operations per second over the whole measured loop (wall time), null where meaningless. */
  opsPerSec: number | null;
  /** Client (bench process) CPU time per operation, microseconds (user + system). */
  cpuUsPerOpClient: number | null;
  /** Server process CPU time per operation, microseconds; null for in-process cases. */
  cpuUsPerOpServer: number | null;
  /** Median per operation divided by the floor's median (both as time); null for non-time units. */
  ratioToFloor: number | null;
  /** Name of the case used as the floor for `ratioToFloor` (default {@link FLOOR_CASE}). */
  floor?: string;
  /** Which direction is better, used by the check script. */
  better: 'lower' | 'higher';
  /** Section of the report the case belongs to. */
  group: string;
  /** Number of samples behind `median`/`p99`. */
  samples?: number;
  /** Wire protocol used, for cases that talk to a server. */
  protocol?: 'grpc' | 'connect' | 'http2' | 'resp';
  /** Further figures of this case (hit rate, heap bytes, slope...). */
  extra?: Record<string, number | string | boolean>;
}

/** A latency distribution kept for the chart (log-spaced histogram, microseconds). */
export interface Distribution {
  /** Case the distribution belongs to. */
  name: string;
  /** Bins: [lo, hi) in microseconds and a count. */
  bins: { lo: number; hi: number; count: number }[];
}

/** Facts about the machine and the run. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemGiB: number;
  node: string;
  v8: string;
  platform: string;
  release: string;
  arch: string;
  loadavgStart: number[];
  loadavgEnd: number[];
  startedAt: string;
  durationS: number;
  quick: boolean;
  redis: string | null;
  /** Median of the floor measured again at the end of the run, µs (null when the baselines did not run). */
  floorEndUs: number | null;
  /** (floorEndUs / floor median - 1) in percent: how much the machine drifted during the run. */
  floorDriftPct: number | null;
}

/** Contents of results.json. */
export interface BenchResults {
  machine: MachineInfo;
  cases: CaseResult[];
  /** Latency histograms used by the chart. */
  distributions: Distribution[];
  /** Suites that failed or were skipped, with the reason. */
  notes: { suite: string; status: 'skipped' | 'failed'; reason: string }[];
}

const TIME_TO_US: Partial<Record<Unit, number>> = { ns: 1e-3, us: 1, ms: 1e3, s: 1e6 };

/** True when the unit is a time per operation. */
export function isTimeUnit(unit: Unit): boolean {
  return TIME_TO_US[unit] !== undefined;
}

/**
 * Converts a value in a time unit to microseconds.
 * @throws TypeError for non-time units.
 */
export function toUs(value: number, unit: Unit): number {
  const f = TIME_TO_US[unit];
  if (f === undefined) throw new TypeError(`toUs: ${unit} is not a time unit`);
  return value * f;
}

/**
 * Fills `ratioToFloor` of every time-unit case: its median divided by the
 * median of its floor case (`floor` or {@link FLOOR_CASE}), both in
 * microseconds. Cases whose floor is missing, and non-time cases, get null.
 * Returns new objects; the input is not changed.
 */
export function computeRatios(cases: readonly CaseResult[]): CaseResult[] {
  const byName = new Map(cases.map((c) => [c.name, c]));
  return cases.map((c) => {
    if (!isTimeUnit(c.unit)) return { ...c, ratioToFloor: null };
    const floor = byName.get(c.floor ?? FLOOR_CASE);
    if (floor === undefined || !isTimeUnit(floor.unit) || floor.median <= 0) return { ...c, ratioToFloor: null };
    return { ...c, ratioToFloor: toUs(c.median, c.unit) / toUs(floor.median, floor.unit) };
  });
}
