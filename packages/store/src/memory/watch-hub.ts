import { checkResumable } from '../internal/watch-events.js';
import { Watcher, endWatchers, fanOut, type WatcherOptions } from '../internal/watcher.js';
import type { StoredVariable, WatchEvent } from '../session-store.js';
import type { StoreError } from '../store-error.js';
import { Ring } from './ring.js';

/**
 * The watch side of one session: the window of recent changes that a watch
 * can resume from, and the open watchers that every change fans out to.
 */
export class WatchHub {
  /**
   * The most recent change events, oldest first, at most `watchWindow`. Their
   * revisions are consecutive (every change of the session is recorded here).
   */
  private readonly window: Ring<WatchEvent>;
  /** The open watchers; each removes itself when it ends. */
  private readonly watchers = new Set<Watcher>();

  constructor(watchWindow: number) {
    this.window = new Ring(watchWindow);
  }

  /** How many watchers are open. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Records a change in the window and hands it to the watchers now, or, when
   * `batch` is given, collects it there for one {@link broadcast} of the whole batch.
   */
  record(event: WatchEvent, batch?: WatchEvent[]): void {
    this.window.push(event);
    if (batch !== undefined) batch.push(event);
    else if (this.watchers.size > 0) fanOut(this.watchers, [event]);
  }

  /** Hands the events of one batch to the watchers together. */
  broadcast(events: readonly WatchEvent[]): void {
    fanOut(this.watchers, events);
  }

  /**
   * Appends to `into` the retained changes after `sinceRevision` (the
   * session being at `revision`), only of `names` when given.
   * @throws `Compacted` when changes after `sinceRevision` are no longer retained.
   */
  replay(sinceRevision: number, revision: number, names: ReadonlySet<string> | null, into: WatchEvent[]): void {
    if (sinceRevision >= revision) return;
    const w = this.window;
    const oldest = w.size > 0 ? w.at(0).revision : revision + 1;
    checkResumable(sinceRevision, oldest);
    for (let i = sinceRevision - (oldest - 1); i < w.size; i++) {
      const e = w.at(i);
      if (names === null || names.has((e.variable as StoredVariable).name)) into.push(e);
    }
  }

  /** Opens a watcher that removes itself from this hub when it ends. */
  open(options: Omit<WatcherOptions, 'detach'>): Watcher {
    const watcher = new Watcher({ ...options, detach: (w) => this.watchers.delete(w) });
    this.watchers.add(watcher);
    return watcher;
  }

  /** Ends every watcher with `error`; with `drain`, after the events they already hold. */
  endAll(error: StoreError, options: { readonly drain: boolean }): void {
    endWatchers(this.watchers, error, options);
  }
}
