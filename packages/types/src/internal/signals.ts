// @private Internal code of unified-bridge, does not follow semantic versioning.
//
// AbortSignal plumbing shared by the server and the client: one signal for a
// call that several others can abort, a deadline as a signal, and racing a
// promise against a signal, so nothing runs on after a cancel, an expired
// deadline or a shutdown. Works in Node and in browsers.

/** Largest delay `setTimeout` honours (about 24.8 days); longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A signal linked to others, from {@link createLinkedAbortController}. */
export interface LinkedAbortController {
  /** Aborts when a source signal aborts, or when {@link LinkedAbortController.abort} is called. */
  readonly signal: AbortSignal;
  /** Aborts the linked signal with `reason` (no-op once aborted). */
  abort(reason?: unknown): void;
  /**
   * Removes the listeners from the source signals; the linked signal keeps
   * its state. Call it when the work is over so a long-lived source (an
   * RPC's signal shared by a batch) does not collect listeners. Idempotent;
   * done by itself once the linked signal aborts.
   */
  cleanup(): void;
}

/**
 * Creates a signal that aborts as soon as any of `signals` does (at once if
 * one already has; `undefined` entries are skipped), with `reason(theirReason)`
 * as its reason (default: the source's reason as it is).
 *
 * @example
 * const linked = createLinkedAbortController([rpcSignal, deadline.signal], (r) => r ?? new Error('cancelled'));
 * try { await work(linked.signal); } finally { linked.cleanup(); deadline.cleanup(); }
 */
export function createLinkedAbortController(
  signals: readonly (AbortSignal | undefined)[],
  reason: (sourceReason: unknown) => unknown = (r) => r,
): LinkedAbortController {
  const ctrl = new AbortController();
  const links: [AbortSignal, () => void][] = [];
  const cleanup = (): void => {
    for (const [s, onAbort] of links.splice(0)) s.removeEventListener('abort', onAbort);
  };
  ctrl.signal.addEventListener('abort', cleanup, { once: true });
  for (const s of signals) {
    if (s === undefined) continue;
    const onAbort = (): void => ctrl.abort(reason(s.reason));
    if (s.aborted) {
      onAbort();
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
    links.push([s, onAbort]);
  }
  return {
    signal: ctrl.signal,
    abort: (r?: unknown) => ctrl.abort(r),
    cleanup,
  };
}

/** A deadline as a signal, from {@link createDeadlineSignal}. */
export interface DeadlineSignal {
  /** Aborts when the deadline passes; never, without a deadline. */
  readonly signal: AbortSignal;
  /** Clears the timer (the signal stays as it is). Idempotent. */
  cleanup(): void;
}

/**
 * Creates a signal that aborts with `reason()` once `timeoutMs` have passed
 * (at the next timer tick for 0 or less; capped at about 24.8 days, the
 * longest timer there is), or never when `timeoutMs` is undefined. The timer
 * does not keep a Node process alive. Default reason: a `TimeoutError`
 * DOMException, as `AbortSignal.timeout()` gives.
 *
 * @example
 * const deadline = createDeadlineSignal(5000, () => new Error('too slow'));
 * try { await work(deadline.signal); } finally { deadline.cleanup(); }
 */
export function createDeadlineSignal(
  timeoutMs: number | undefined,
  reason: () => unknown = () => new DOMException('the deadline passed', 'TimeoutError'),
): DeadlineSignal {
  const ctrl = new AbortController();
  if (timeoutMs === undefined) return { signal: ctrl.signal, cleanup: () => {} };
  const timer = setTimeout(() => ctrl.abort(reason()), Math.min(MAX_TIMER_MS, Math.max(0, timeoutMs)));
  (timer as { unref?: () => void }).unref?.();
  return { signal: ctrl.signal, cleanup: () => clearTimeout(timer) };
}

/**
 * Settles like `promise`, or rejects as soon as `signal` aborts (at once if
 * it already has) with `reason(signal)` (default `signal.reason`); the work's
 * own outcome is then ignored. Without a signal, returns `promise` itself.
 * Adds one listener to `signal` while the promise is pending (always
 * removed); for a long-lived signal shared by many pending promises, pass
 * `AbortSignal.any([signal])` so the listeners go to a signal of their own.
 *
 * @example
 * const value = await abortable(store.getVariable(sessionId, name), ctx.signal);
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  reason: (signal: AbortSignal) => unknown = (s) => s.reason,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {}); // the work's own failure is of no interest any more
    return Promise.reject(reason(signal) as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(reason(signal) as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
