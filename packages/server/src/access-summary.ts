// The periodic summary of the access log: how many RPCs ended with each
// status code over the interval, one `info` line per interval with traffic
// (the per-call lines are at `debug`).
import type { BridgeLogger } from './logger.js';
import { STATUS_CODE_NAMES } from './rpc-status.js';
import type { StatusCode } from './rpc-status.js';

/** The default interval of the summary line, in ms. */
export const DEFAULT_SUMMARY_INTERVAL_MS = 60_000;

/** Counts of RPCs by status code over an interval, logged by a timer (unref'ed). */
export class AccessSummary {
  readonly #logger: BridgeLogger;
  readonly #counts = new Array<number>(STATUS_CODE_NAMES.length).fill(0);
  #total = 0;
  #since = Date.now();
  #timer: NodeJS.Timeout | undefined;

  /** `intervalMs` 0 turns the timer off (the counts are still logged by {@link AccessSummary.close}). */
  constructor(logger: BridgeLogger, intervalMs: number) {
    this.#logger = logger;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.flush(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Counts one finished call. */
  record(code: StatusCode): void {
    this.#counts[code] = (this.#counts[code] ?? 0) + 1;
    this.#total++;
  }

  /** Logs the counts since the last line (nothing when there was no call) and starts a new interval. */
  flush(): void {
    const now = Date.now();
    if (this.#total > 0) {
      const codes: Record<string, number> = {};
      this.#counts.forEach((n, code) => {
        if (n > 0) codes[STATUS_CODE_NAMES[code]!] = n;
      });
      this.#logger.info({ intervalMs: now - this.#since, rpcs: this.#total, codes }, 'rpc summary');
    }
    this.#counts.fill(0);
    this.#total = 0;
    this.#since = now;
  }

  /** Stops the timer and logs what is left. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
