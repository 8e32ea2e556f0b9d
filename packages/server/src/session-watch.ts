// Learns when a session ends (closed, expired, or gone with its store), for
// any store backend: one store watch per session on a variable name no one
// uses, which the store ends with SessionNotFound/SessionExpired.
import type { SessionStore } from '@unified-bridge/store';

/** The variable the watch filters on; it only exists to keep the watch quiet. */
const QUIET_NAME = '__unified_bridge_session_end__';

interface Watched {
  readonly listeners: Set<(reason: unknown) => void>;
  readonly stop: AbortController;
}

/** Calls listeners once when their session ends; one store watch per watched session. */
export class SessionEndWatch {
  readonly #store: SessionStore;
  readonly #watched = new Map<string, Watched>();

  constructor(store: SessionStore) {
    this.#store = store;
  }

  /**
   * Calls `listener` (once) with the store's error when the session ends.
   * Returns the function that stops listening. Stopping every listener (or
   * `close()`) ends the store watch.
   */
  onEnd(sessionId: string, listener: (reason: unknown) => void): () => void {
    let w = this.#watched.get(sessionId);
    if (w === undefined) {
      w = { listeners: new Set(), stop: new AbortController() };
      this.#watched.set(sessionId, w);
      void this.#follow(sessionId, w);
    }
    const entry = w;
    let called = false;
    const once = (reason: unknown) => {
      if (called) return;
      called = true;
      listener(reason);
    };
    entry.listeners.add(once);
    return () => {
      entry.listeners.delete(once);
      if (entry.listeners.size === 0 && this.#watched.get(sessionId) === entry) {
        this.#watched.delete(sessionId);
        entry.stop.abort();
      }
    };
  }

  /** Ends every watch without calling listeners. */
  close(): void {
    for (const w of this.#watched.values()) w.stop.abort();
    this.#watched.clear();
  }

  async #follow(sessionId: string, w: Watched): Promise<void> {
    let reason: unknown;
    try {
      for await (const _ of this.#store.watch(sessionId, { names: [QUIET_NAME], signal: w.stop.signal })) {
        // Only the end matters.
      }
      if (w.stop.signal.aborted) return;
      reason = new Error(`the watch of session ${sessionId} ended`);
    } catch (err) {
      if (w.stop.signal.aborted) return;
      reason = err;
    }
    if (this.#watched.get(sessionId) === w) this.#watched.delete(sessionId);
    for (const l of [...w.listeners]) l(reason);
  }
}
