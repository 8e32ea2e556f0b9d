// Graceful shutdown of the services: refuse new calls, let in-flight calls
// finish within a grace period, end streams with UNAVAILABLE.
import type { Interceptor, StreamResponse, UnaryResponse } from '@connectrpc/connect';
import { shuttingDown } from './errors.js';

/**
 * Tracks the calls in flight and the draining state. Its interceptor refuses
 * new calls with UNAVAILABLE "server shutting down" once draining began.
 */
export class CallTracker {
  #draining = false;
  #inFlight = 0;
  readonly #idleWaiters = new Set<() => void>();

  /** True once {@link CallTracker.drain} was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /** The number of calls (unary and streaming) still running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts draining: every later call is refused. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves when no call is in flight (at once if none is). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  #begin(): () => void {
    this.#inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#inFlight--;
      if (this.#inFlight === 0) {
        for (const w of [...this.#idleWaiters]) w();
        this.#idleWaiters.clear();
      }
    };
  }

  /** The interceptor: refuses calls while draining, counts the others until they finish. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      if (this.#draining) throw shuttingDown();
      const end = this.#begin();
      let res: UnaryResponse | StreamResponse;
      try {
        res = await next(req);
      } catch (err) {
        end();
        throw err;
      }
      if (!res.stream) {
        end();
        return res;
      }
      const source = res.message;
      async function* tracked() {
        try {
          yield* source;
        } finally {
          end();
        }
      }
      return { ...res, message: tracked() };
    };
  }
}
