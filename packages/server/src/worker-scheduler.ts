// Which worker gets a call: the least busy worker of a tool with a free slot,
// ties broken round-robin, and calls that wait in order while every worker
// is busy. Pure scheduling: no store, no stream.

/** What scheduling needs to know of a worker. */
export interface SchedulableWorker {
  /** True once the worker went away: it gets no more calls. */
  readonly ended: boolean;
  /** Calls it accepts at once. */
  readonly maxConcurrency: number;
  /** Its calls in flight plus the slots reserved for calls about to be sent (over all its tools). */
  readonly load: number;
  /** Reserves one slot for a call about to be sent (it counts in `load` until the call is sent). */
  reserve(): void;
}

/**
 * The index of the least busy worker with a free slot, looking from
 * `start` onwards (wrapping round), so among equally busy workers the first
 * one from `start` wins; -1 when every worker is full or ended.
 */
export function pickLeastBusy(workers: readonly SchedulableWorker[], start: number): number {
  const n = workers.length;
  let best = -1;
  let bestLoad = Infinity;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    const w = workers[i]!;
    const load = w.load;
    if (w.ended || load >= w.maxConcurrency) continue;
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  return best;
}

interface Waiter<W> {
  readonly resolve: (w: W) => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

/**
 * The workers serving one tool and the calls waiting for a slot among them.
 * A picked worker has a slot reserved (see {@link SchedulableWorker.reserve});
 * the round-robin goes on after the worker picked last.
 */
export class CallScheduler<W extends SchedulableWorker> {
  /** The workers, in the order they joined. */
  readonly workers: W[] = [];
  /** Where the round-robin among equally busy workers continues. */
  #next = 0;
  readonly #waiters: Waiter<W>[] = [];

  /** Adds a worker (it gets calls from the next pick on). */
  add(worker: W): void {
    this.workers.push(worker);
  }

  /** Removes a worker; returns how many are left. */
  remove(worker: W): number {
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers.splice(i, 1);
    return this.workers.length;
  }

  /** Picks the least busy worker with a free slot (ties: round-robin) and reserves the slot, if there is one. */
  pick(): W | undefined {
    const i = pickLeastBusy(this.workers, this.#next);
    if (i < 0) return undefined;
    const w = this.workers[i]!;
    this.#next = (i + 1) % this.workers.length;
    w.reserve();
    return w;
  }

  /**
   * A worker with a slot reserved for this call: at once when one is free,
   * else once one frees up (calls wait in order). Rejects with the signal's
   * reason if it aborts first.
   */
  acquire(signal: AbortSignal): Promise<W> {
    const w = this.pick();
    if (w !== undefined) return Promise.resolve(w);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<W>((resolve, reject) => {
      const waiter: Waiter<W> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
        },
      };
      this.#waiters.push(waiter);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  /** Hands free slots to the calls waiting, first come first served. */
  pump(): void {
    while (this.#waiters.length > 0) {
      const w = this.pick();
      if (w === undefined) return;
      const waiter = this.#waiters.shift()!;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(w); // the slot stays reserved until the call is sent
    }
  }

  /**
   * Takes every waiting call out of the queue (when the last worker left);
   * the returned functions fail them, once the caller is ready to.
   */
  takeWaiters(): ((err: unknown) => void)[] {
    return this.#waiters.splice(0).map((w) => (err: unknown) => {
      w.signal.removeEventListener('abort', w.onAbort);
      w.reject(err);
    });
  }
}
