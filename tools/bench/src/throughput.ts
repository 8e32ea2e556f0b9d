/**
 * Throughput figures of the streaming cases: MB/s (10^6 bytes per second)
 * derived from a time-per-stream case.
 */
import type { CaseResult } from './results.js';

/** The seed's streaming target, MB/s (10^6 bytes per second). */
export const STREAM_TARGET_MBPS = 50;

/** Throughput in MB/s (10^6 bytes per second) of `bytes` moved in `ms` milliseconds. */
export function mbPerSec(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1e3);
}

/**
 * A throughput case derived from a time-per-stream case (unit ms): median
 * and worst (slowest stream) in MB/s, higher is better.
 */
export function throughputCase(time: CaseResult, bytes: number, extra: CaseResult['extra'] = {}): CaseResult {
  if (time.unit !== 'ms') throw new TypeError(`throughputCase: ${time.name} is in ${time.unit}, expected ms`);
  const mbps = mbPerSec(bytes, time.median);
  return {
    name: `${time.name}.throughput`,
    unit: 'MB/s',
    median: mbps,
    p99: null,
    opsPerSec: null,
    cpuUsPerOpClient: null,
    cpuUsPerOpServer: null,
    ratioToFloor: null,
    better: 'higher',
    group: time.group,
    ...(time.protocol === undefined ? {} : { protocol: time.protocol }),
    extra: {
      bytesPerStream: bytes,
      MiBps: (mbps * 1e6) / 2 ** 20,
      ...(time.max === undefined ? {} : { worstMBps: mbPerSec(bytes, time.max) }),
      ...extra,
    },
  };
}
