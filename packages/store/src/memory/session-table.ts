import type { CheckedSessionOptions } from '../internal/checks.js';
import { newSessionId } from '../internal/ids.js';
import { compareStrings, pageOf, type PageWindow } from '../internal/paging.js';
import {
  limitReached,
  sessionAlreadyExists,
  sessionClosed,
  sessionExpired,
  sessionNotFound,
} from '../internal/store-errors.js';
import type { StoreLimits } from '../limits.js';
import type { Clock } from '../session-store.js';
import { SessionState } from './session-state.js';

/**
 * The sessions of a `MemoryStore` and their idle TTLs. A session that has
 * expired stays in the table until a call names it or the sweep runs; either
 * expires it (drops its state, ends its watchers with `SessionExpired`) and
 * leaves a tombstone, so later use says `SessionExpired` rather than
 * `SessionNotFound`.
 */
export class SessionTable {
  /** The sessions by id, live or expired but not yet swept. */
  private readonly sessions = new Map<string, SessionState>();
  /**
   * Tombstones: owners of expired sessions by id, oldest first, at most
   * `max(maxSessions, 1)`, so later use says `SessionExpired` and names the
   * owner (the server shows `SessionExpired` only to the session's owner).
   */
  private readonly expired = new Map<string, string>();

  constructor(
    private readonly limits: Readonly<StoreLimits>,
    private readonly clock: Clock,
  ) {}

  /** Every session in the table (expired ones not yet swept included). */
  values(): IterableIterator<SessionState> {
    return this.sessions.values();
  }

  /**
   * Creates a session (generating an id when `options.id` is undefined). A
   * live session of that id fails; an expired one is expired first. At
   * `maxSessions`, expired sessions are swept to make room.
   * @throws `AlreadyExists`, `ResourceExhausted` (`maxSessions`).
   */
  create(options: CheckedSessionOptions): SessionState {
    let id = options.id;
    if (id === undefined) {
      do id = newSessionId();
      while (this.sessions.has(id));
    }
    const now = this.clock.now();
    const existing = this.sessions.get(id);
    if (existing !== undefined) {
      if (!existing.expiredAt(now)) throw sessionAlreadyExists(id);
      this.expire(existing);
    }
    if (this.sessions.size >= this.limits.maxSessions) {
      this.sweepExpired();
      if (this.sessions.size >= this.limits.maxSessions) {
        throw limitReached(this.limits, 'maxSessions', `the store already holds ${this.limits.maxSessions} sessions`);
      }
    }
    this.expired.delete(id);
    const session = new SessionState({ ...options, id }, now, this.limits.watchWindow);
    this.sessions.set(id, session);
    return session;
  }

  /**
   * Returns the live session of `sessionId` and slides its idle TTL (every
   * call that names a session counts as use). A session found expired is expired now.
   * @throws `SessionNotFound`, `SessionExpired`.
   */
  touch(sessionId: string): SessionState {
    const s = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (s === undefined) {
      const owner = typeof sessionId === 'string' ? this.expired.get(sessionId) : undefined;
      if (owner !== undefined) throw sessionExpired(sessionId, owner);
      throw sessionNotFound(sessionId);
    }
    const now = this.clock.now();
    if (s.expiredAt(now)) {
      this.expire(s);
      throw sessionExpired(s.id, s.owner);
    }
    s.lastUsedAt = now;
    return s;
  }

  /** Closes a session: drops it and ends its watchers (after their buffered events) with `SessionNotFound`. */
  close(s: SessionState): void {
    this.sessions.delete(s.id);
    s.watch.endAll(sessionClosed(s.id), { drain: true });
  }

  /** Expires every session whose idle TTL has passed; returns how many. */
  sweepExpired(): number {
    const now = this.clock.now();
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.expiredAt(now)) {
        this.expire(s);
        n++;
      }
    }
    return n;
  }

  /**
   * One page of the live sessions ordered by id, optionally of one owner.
   * Does not slide TTLs and expires nothing.
   */
  list(
    page: PageWindow,
    owner: string | undefined,
  ): { readonly items: readonly SessionState[]; readonly nextPageToken: string } {
    const now = this.clock.now();
    const matches: SessionState[] = [];
    for (const s of this.sessions.values()) {
      if (s.expiredAt(now)) continue;
      if (owner !== undefined && s.owner !== owner) continue;
      if (page.after !== undefined && s.id <= page.after) continue;
      matches.push(s);
    }
    matches.sort((a, b) => compareStrings(a.id, b.id));
    return pageOf(matches, page.pageSize, (s) => s.id);
  }

  /** Drops every session and tombstone (the store closed; watchers are ended by the caller). */
  clear(): void {
    this.sessions.clear();
    this.expired.clear();
  }

  private expire(s: SessionState): void {
    this.sessions.delete(s.id);
    this.expired.set(s.id, s.owner);
    // Keep the tombstones bounded: drop the oldest.
    while (this.expired.size > Math.max(this.limits.maxSessions, 1)) {
      const oldest = this.expired.keys().next().value as string;
      this.expired.delete(oldest);
    }
    s.watch.endAll(sessionExpired(s.id, s.owner), { drain: true });
  }
}
