/**
 * The comparison behind `npm run bench:check`: each case's ratio to the floor
 * (or, for cases without a ratio such as bytes and hit rates, its median)
 * against the committed baseline, with a relative tolerance.
 */
import type { CaseResult } from './results.js';

/** The parts of results.json the comparison reads. */
export interface ComparableResults {
  machine?: { quick?: boolean; cpuModel?: string; cores?: number };
  cases: Pick<CaseResult, 'name' | 'unit' | 'median' | 'ratioToFloor' | 'better'>[];
}

/** One case compared. */
export interface Comparison {
  name: string;
  metric: 'ratioToFloor' | 'median';
  baseline: number;
  current: number;
  /** Relative change where positive is worse (0.12 = 12% worse). */
  worse: number;
  status: 'regression' | 'ok' | 'improved';
}

/** Outcome of a check. */
export interface CheckOutcome {
  compared: Comparison[];
  regressions: Comparison[];
  /** Cases in the baseline that the results lack (a failure: a suite broke). */
  missing: string[];
  /** Cases in the results that the baseline lacks (informational). */
  added: string[];
  warnings: string[];
  /** True when nothing regressed and nothing is missing. */
  ok: boolean;
}

/**
 * Compares results with a baseline. `tolerance` is the allowed relative
 * worsening (0.1 = 10%).
 * @throws RangeError for a negative or non-finite tolerance.
 */
export function compareResults(
  baseline: ComparableResults,
  current: ComparableResults,
  tolerance: number,
): CheckOutcome {
  if (!(tolerance >= 0) || !Number.isFinite(tolerance))
    throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const warnings: string[] = [];
  if ((baseline.machine?.quick ?? false) !== (current.machine?.quick ?? false)) {
    warnings.push('one of the runs used --quick and the other did not: sizes differ, figures are not comparable');
  }
  if (
    baseline.machine?.cpuModel &&
    current.machine?.cpuModel &&
    baseline.machine.cpuModel !== current.machine.cpuModel
  ) {
    warnings.push(
      `different CPU (${baseline.machine.cpuModel} vs ${current.machine.cpuModel}): ratios travel better than absolute figures, but not perfectly`,
    );
  }
  const now = new Map(current.cases.map((c) => [c.name, c]));
  const before = new Set(baseline.cases.map((c) => c.name));
  const compared: Comparison[] = [];
  const missing: string[] = [];
  for (const b of baseline.cases) {
    const c = now.get(b.name);
    if (c === undefined) {
      missing.push(b.name);
      continue;
    }
    let metric: Comparison['metric'];
    let bv: number;
    let cv: number;
    if (b.ratioToFloor !== null && c.ratioToFloor !== null) {
      metric = 'ratioToFloor';
      bv = b.ratioToFloor;
      cv = c.ratioToFloor;
    } else if (b.unit === c.unit) {
      metric = 'median';
      bv = b.median;
      cv = c.median;
    } else {
      warnings.push(`${b.name}: unit changed from ${b.unit} to ${c.unit}; not compared`);
      continue;
    }
    const better = b.better ?? 'lower';
    let worse: number;
    if (bv === cv) worse = 0;
    else if (better === 'lower') worse = bv === 0 ? Infinity : cv / bv - 1;
    else worse = cv === 0 ? Infinity : bv / cv - 1;
    const status: Comparison['status'] = worse > tolerance ? 'regression' : worse < -tolerance ? 'improved' : 'ok';
    compared.push({ name: b.name, metric, baseline: bv, current: cv, worse, status });
  }
  const added = current.cases.map((c) => c.name).filter((n) => !before.has(n));
  const regressions = compared.filter((c) => c.status === 'regression');
  return { compared, regressions, missing, added, warnings, ok: regressions.length === 0 && missing.length === 0 };
}

/** Renders a check outcome as text lines (for the terminal). */
export function formatOutcome(outcome: CheckOutcome, tolerance: number): string {
  const lines: string[] = [];
  const pct = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%` : 'inf');
  const width = Math.max(4, ...outcome.compared.map((c) => c.name.length));
  for (const c of outcome.compared) {
    const mark = c.status === 'regression' ? 'REGRESSION' : c.status === 'improved' ? 'improved' : 'ok';
    lines.push(
      `${c.name.padEnd(width)}  ${c.metric === 'ratioToFloor' ? 'ratio ' : 'median'} ${fmt(c.baseline).padStart(10)} -> ${fmt(c.current).padStart(10)}  ${pct(c.worse).padStart(8)} worse  ${mark}`,
    );
  }
  for (const m of outcome.missing) lines.push(`${m.padEnd(width)}  MISSING from the results`);
  for (const a of outcome.added) lines.push(`${a.padEnd(width)}  new (not in the baseline)`);
  for (const w of outcome.warnings) lines.push(`warning: ${w}`);
  lines.push(
    `${outcome.compared.length} compared, ${outcome.regressions.length} regressed over ${(tolerance * 100).toFixed(0)}%, ${outcome.missing.length} missing: ${outcome.ok ? 'OK' : 'FAILED'}`,
  );
  return lines.join('\n');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.001 ? v.toExponential(3) : v.toPrecision(4);
}
