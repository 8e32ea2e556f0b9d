// The watchers of one store instance. Every session with watchers here has one
// feed: a subscription to the session's channel, and the revision up to which it
// has handed changes to its watchers. Changes reach a feed three ways: inline in
// a notification, from this store's own writes (at once, before the write
// returns), or read from the session's stream when a notification carried only a
// revision, arrived out of order, or was missed while the subscription was down.
// A feed hands out changes strictly in revision order, each exactly once.
import type { StoreLimits, StoreWatchOptions, StoredVariable, WatchEvent } from '@unified-bridge/store';
import { StoreError } from '@unified-bridge/store';
import {
  Watcher,
  checkResumable,
  checkWatchOptions,
  compareStrings,
  doneIterator,
  failedIterator,
  fanOut,
  initialEvent,
  limitReached,
  sessionClosed,
  sessionExpired,
  storeClosed,
  syncedEvent,
} from '@unified-bridge/store/internal';
import type { Notification } from './messages.js';

/** What a watch needs from its store. */
export interface WatchHost {
  /** The limits in force. */
  readonly limits: Readonly<StoreLimits>;
  /** Subscribes to (or, with `false`, unsubscribes from) a session's channel. */
  subscribe(sessionId: string, on: boolean): Promise<void>;
  /** Starts a watch: touches the session; its revision, oldest retained revision, initial records, changes after `since`. */
  snapshot(
    sessionId: string,
    since: number | undefined,
    initial: boolean,
    names: ReadonlySet<string> | null,
  ): Promise<{ revision: number; oldest: number; initial: StoredVariable[]; replay: WatchEvent[] }>;
  /** Reads retained changes from `fromRevision` on, at most `count`. */
  fetch(sessionId: string, fromRevision: number, count: number): Promise<WatchEvent[]>;
  /** Checks a watched session (expiring it when its TTL passed): `null` while it lives, else the error that ends its watchers. */
  check(sessionId: string): Promise<StoreError | null>;
}

/** One watcher of a feed: joining (its snapshot is being read) or open. */
class Subscriber {
  /** Changes the feed handed out while the snapshot was read (joining only). */
  joining: (readonly WatchEvent[])[] | null = [];
  /** How many events `joining` holds. */
  joined = 0;
  /** The watcher, once open. */
  watcher: Watcher | undefined;
  /** The watcher alone, for `fanOut`. */
  set: Set<Watcher> = new Set();
  /** Changes up to this revision are in the watcher's prefix: later ones only are pushed. */
  from = 0;
  /** The revision of the last change pushed to the watcher (where a consumer resumes after an error). */
  pushed = 0;
  /** More changes arrived while joining than the watcher may hold. */
  overflowed = false;
}

/** The watchers of one session in this store, and the revision they have been handed changes up to. */
class Feed {
  readonly subscribers = new Set<Subscriber>();
  /** The highest revision handed out; `undefined` until the first watcher's snapshot is read. */
  last: number | undefined;
  /** The highest revision known to exist (a notification said so). */
  target = 0;
  /** Changes that arrived before `last` was known, in arrival order (bounded). */
  early: WatchEvent[] = [];
  /** Reading changes from the stream is under way. */
  fetching = false;
  /** The subscription to the session's channel (resolves once Redis confirmed it). */
  subscribed: Promise<void> | undefined;
  /** Set when the feed ended: the error of each of its watchers (also those still joining). */
  ended: ((sub: Subscriber) => StoreError) | undefined;

  constructor(readonly sessionId: string) {}
}

/** The error that ends the watchers of a feed whose changes can no longer be read. */
function missed(lastRevision: number, reason: string): StoreError {
  return new StoreError(
    'WatcherOverflow',
    `watcher missed changes (${reason}) and was ended; resume from revision ${lastRevision}`,
    { lastRevision, details: { lastRevision: String(lastRevision) } },
  );
}

/** Every watcher of one store instance, grouped into one feed per watched session. */
export class Watches {
  private readonly feeds = new Map<string, Feed>();
  private closed = false;

  constructor(private readonly host: WatchHost) {}

  /** How many sessions have watchers here. */
  get size(): number {
    return this.feeds.size;
  }

  /** Opens a watch (`SessionStore.watch` semantics); the subscription starts with the first `next()`. */
  open(sessionId: string, options: StoreWatchOptions): AsyncIterableIterator<WatchEvent> {
    if (this.closed) return failedIterator(storeClosed());
    if (options.signal?.aborted) return doneIterator();
    let feed = this.feeds.get(sessionId);
    const limit = this.host.limits.maxWatchersPerSession;
    if ((feed?.subscribers.size ?? 0) >= limit) {
      return failedIterator(
        limitReached(this.host.limits, 'maxWatchersPerSession', `session ${sessionId} already has ${limit} watchers`),
      );
    }
    if (feed === undefined) {
      feed = new Feed(sessionId);
      this.feeds.set(sessionId, feed);
      feed.subscribed = this.host.subscribe(sessionId, true);
      feed.subscribed.catch(() => {});
    }
    const sub = new Subscriber();
    feed.subscribers.add(sub);
    const opened = this.join(feed, sub, options);
    opened.catch(() => {});
    return new PendingWatch(opened, options.signal, () => this.detach(feed, sub));
  }

  /** Hands a notification of a session's channel to its feed. */
  notify(sessionId: string, n: Notification): void {
    const feed = this.feeds.get(sessionId);
    if (feed === undefined) return;
    switch (n.kind) {
      case 'events':
        this.offer(feed, n.events);
        return;
      case 'revision':
        feed.target = Math.max(feed.target, n.revision);
        void this.catchUp(feed);
        return;
      case 'closed':
        this.end(sessionId, sessionClosed(sessionId));
        return;
      case 'expired':
        this.end(sessionId, sessionExpired(sessionId, n.owner));
        return;
    }
  }

  /** Hands the changes of a write made through this store to the session's watchers here, if any. */
  offerLocal(sessionId: string, events: readonly WatchEvent[]): void {
    const feed = this.feeds.get(sessionId);
    if (feed !== undefined && events.length > 0) this.offer(feed, events);
  }

  /**
   * The subscription was re-established: read whatever was published while it was down, and end
   * the watchers of sessions that ended meanwhile.
   */
  resubscribed(): void {
    for (const feed of this.feeds.values()) {
      if (feed.last !== undefined) {
        feed.target = Number.MAX_SAFE_INTEGER;
        void this.catchUp(feed);
      }
    }
    void this.sweep();
  }

  /** Ends a session's watchers here (after their buffered events) and drops its feed. */
  end(sessionId: string, error: StoreError): void {
    const feed = this.feeds.get(sessionId);
    if (feed === undefined) return;
    this.finish(feed, () => error);
  }

  /** Checks every watched session (ends the watchers of the ones that expired or were closed); returns how many ended. */
  async sweep(): Promise<number> {
    let ended = 0;
    await Promise.all(
      [...this.feeds.keys()].map(async (sessionId) => {
        const error = await this.host.check(sessionId).catch(() => null);
        if (error !== null) {
          ended++;
          this.end(sessionId, error);
        }
      }),
    );
    return ended;
  }

  /** Ends every watcher with `StoreClosed` at once (the store closed). */
  close(): void {
    this.closed = true;
    for (const feed of [...this.feeds.values()]) {
      this.feeds.delete(feed.sessionId);
      for (const sub of feed.subscribers) sub.watcher?.end(storeClosed(), { drain: false });
    }
  }

  private async join(feed: Feed, sub: Subscriber, options: StoreWatchOptions): Promise<Watcher> {
    // Bad names or revisions fail before anything is read.
    checkWatchOptions(options, Number.MAX_SAFE_INTEGER);
    await feed.subscribed;
    const names = options.names !== undefined && options.names.length > 0 ? new Set(options.names) : null;
    const since = options.sinceRevision;
    const snap = await this.host.snapshot(
      feed.sessionId,
      typeof since === 'number' ? since : undefined,
      options.includeInitial === true,
      names,
    );
    const checked = checkWatchOptions(options, snap.revision);
    if (checked.sinceRevision !== undefined && checked.sinceRevision < snap.revision) {
      checkResumable(checked.sinceRevision, snap.oldest === -1 ? snap.revision + 1 : snap.oldest);
    }
    if (!feed.subscribers.has(sub)) throw storeClosed();
    const prefix: WatchEvent[] = [];
    const initial = [...snap.initial].sort((a, b) => compareStrings(a.name, b.name));
    for (const v of initial) prefix.push(initialEvent(snap.revision, v));
    for (const e of snap.replay) {
      if (checked.names === null || checked.names.has((e.variable as StoredVariable).name)) prefix.push(e);
    }
    prefix.push(syncedEvent(snap.revision));
    const watcher = new Watcher({
      names: checked.names,
      prefix,
      startRevision: checked.sinceRevision ?? snap.revision,
      bufferSize: this.host.limits.watcherBufferSize,
      signal: options.signal,
      detach: () => this.detach(feed, sub),
    });
    sub.watcher = watcher;
    sub.set = new Set([watcher]);
    sub.from = snap.revision;
    sub.pushed = snap.revision;
    const joined = sub.joining ?? [];
    sub.joining = null;
    if (sub.overflowed) {
      watcher.end(missed(snap.revision, 'it fell behind while starting'), { drain: true });
      return watcher;
    }
    for (const batch of joined) this.push(sub, batch);
    if (feed.ended !== undefined) {
      watcher.end(feed.ended(sub), { drain: true });
      return watcher;
    }
    if (feed.last === undefined) {
      feed.last = snap.revision;
      const early = feed.early;
      feed.early = [];
      this.offer(feed, early);
    }
    return watcher;
  }

  /** Removes a watcher from its feed; the last one unsubscribes. */
  private detach(feed: Feed, sub: Subscriber): void {
    if (!feed.subscribers.delete(sub)) return;
    if (feed.subscribers.size === 0 && this.feeds.get(feed.sessionId) === feed) this.drop(feed);
  }

  private drop(feed: Feed): void {
    if (this.feeds.get(feed.sessionId) !== feed) return;
    this.feeds.delete(feed.sessionId);
    if (!this.closed) this.host.subscribe(feed.sessionId, false).catch(() => {});
  }

  /** Takes changes in revision order: the next ones are handed out, older ones dropped, a gap read from the stream. */
  private offer(feed: Feed, events: readonly WatchEvent[]): void {
    if (feed.last === undefined) {
      for (const e of events) feed.target = Math.max(feed.target, e.revision);
      if (feed.early.length + events.length <= this.host.limits.watcherBufferSize) feed.early.push(...events);
      return;
    }
    const next: WatchEvent[] = [];
    for (const e of events) {
      if (e.revision <= feed.last) continue;
      if (e.revision !== feed.last + 1) {
        feed.target = Math.max(feed.target, e.revision);
        break;
      }
      next.push(e);
      feed.last = e.revision;
    }
    if (next.length > 0) this.deliver(feed, next);
    if (feed.target > feed.last) void this.catchUp(feed);
  }

  private deliver(feed: Feed, events: readonly WatchEvent[]): void {
    for (const sub of [...feed.subscribers]) {
      if (sub.joining !== null) {
        sub.joined += events.length;
        if (sub.joined <= this.host.limits.watcherBufferSize) sub.joining.push(events);
        else sub.overflowed = true;
        continue;
      }
      this.push(sub, events);
    }
  }

  private push(sub: Subscriber, events: readonly WatchEvent[]): void {
    const fresh = events.filter((e) => e.revision > sub.from);
    if (fresh.length === 0 || sub.watcher === undefined) return;
    sub.pushed = (fresh[fresh.length - 1] as WatchEvent).revision;
    fanOut(sub.set, fresh);
  }

  /** Reads changes from the stream until the feed has handed out every known one. */
  private async catchUp(feed: Feed): Promise<void> {
    if (feed.fetching || feed.last === undefined) return;
    feed.fetching = true;
    try {
      while (feed.last < feed.target && this.feeds.get(feed.sessionId) === feed) {
        const from = feed.last + 1;
        const events = await this.host.fetch(feed.sessionId, from, 500);
        const first = events[0];
        if (first === undefined) {
          // Nothing newer retained: either all caught up (a resubscription's open target) or gone.
          feed.target = feed.last;
          break;
        }
        if (first.revision > from) {
          this.fail(feed, `changes ${from}-${first.revision - 1} are no longer retained`);
          return;
        }
        this.offer(feed, events);
      }
    } catch (err) {
      this.fail(feed, `they could not be read: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      feed.fetching = false;
    }
  }

  /** Ends every watcher of a feed with a resumable error, each at its own last revision. */
  private fail(feed: Feed, reason: string): void {
    this.finish(feed, (sub) => missed(sub.pushed, reason));
  }

  /** Drops a feed and ends its watchers (after their buffered events); joining ones end once open. */
  private finish(feed: Feed, error: (sub: Subscriber) => StoreError): void {
    if (feed.ended !== undefined) return;
    feed.ended = error;
    this.drop(feed);
    for (const sub of [...feed.subscribers]) sub.watcher?.end(error(sub), { drain: true });
  }
}

/**
 * The iterator `watch()` returns: it waits for the subscription and the snapshot on its first
 * `next()`, then is the watcher itself. Aborting or returning before that frees the slot at once.
 */
class PendingWatch implements AsyncIterableIterator<WatchEvent> {
  private watcher: Watcher | undefined;
  private stopped = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly opened: Promise<Watcher>,
    private readonly signal: AbortSignal | undefined,
    private readonly release: () => void,
  ) {
    if (signal !== undefined) {
      this.onAbort = () => this.stop();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    opened.then(
      (w) => {
        this.watcher = w;
        this.unlisten();
        if (this.stopped) void w.return();
      },
      () => {
        this.unlisten();
        this.release();
      },
    );
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    if (this.watcher !== undefined) return this.watcher.next();
    if (this.stopped) return { value: undefined, done: true };
    let watcher: Watcher;
    try {
      watcher = await this.opened;
    } catch (err) {
      if (this.stopped) return { value: undefined, done: true };
      this.stopped = true;
      throw err;
    }
    if (this.stopped) return { value: undefined, done: true };
    return watcher.next();
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    if (this.watcher !== undefined) void this.watcher.return();
    else this.release();
  }

  private unlisten(): void {
    if (this.signal !== undefined && this.onAbort !== undefined) this.signal.removeEventListener('abort', this.onAbort);
  }
}
