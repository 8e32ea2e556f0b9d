// Shared pieces of the tool specs: the host tools module the spawned servers load, and small
// helpers around it.
import { resolve } from 'node:path';
import type { Session } from '@unified-bridge/client';

/** Absolute path of the host tools module (`--tools-module`) of the tool specs. */
export const HOST_TOOLS_MODULE = resolve(__dirname, '../fixtures/host-tools.mjs');

/** Server CLI arguments that load {@link HOST_TOOLS_MODULE}. */
export const HOST_TOOLS_ARGS = ['--tools-module', HOST_TOOLS_MODULE] as const;

/** What the `probe` host tool reports about the calls made with one key. */
export interface ProbeRecord {
  calls: number;
  started: number;
  aborted: number;
  completed: number;
  abortReason: string;
}

/** Reads what the host tools recorded under `key` (through the `probe` host tool). */
export function probe(session: Session, key: string): Promise<ProbeRecord> {
  return session.tools.call<ProbeRecord>('probe', { key });
}

/** Prints a figure of a test (never asserted on: timings belong to the benchmarks). */
export function report(line: string): void {
  process.stdout.write(`[figure] ${line}\n`);
}
