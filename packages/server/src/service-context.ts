// What the service implementations share: the store, the optional session TTL,
// the signal that ends streams at shutdown, and the per-call helpers that
// race the store against the call's signal and enforce session ownership.
import type { HandlerContext } from '@connectrpc/connect';
import { isStoreError } from '@unified-bridge/store';
import type { SessionRecord, SessionStore } from '@unified-bridge/store';
import { abortable } from '@unified-bridge/types/internal';
import { principalKey } from './auth.js';
import { sessionNotFound } from './errors.js';

/** Dependencies of the Session and Variable service implementations. */
export interface ServiceDeps {
  /** Where sessions and variables live. */
  readonly store: SessionStore;
  /** The idle TTL for sessions created without one, in ms; `undefined` uses the store's default. */
  readonly sessionTtlMs: number | undefined;
  /** Aborted at shutdown (with UNAVAILABLE "server shutting down"): ends every stream. */
  readonly streamsSignal: AbortSignal;
}

/**
 * Runs store work for a call: refuses to start once the call's signal has
 * aborted (deadline, disconnect, shutdown), and stops waiting as soon as it
 * aborts, so no handler runs on after its caller is gone.
 */
export function run<T>(ctx: HandlerContext, work: () => Promise<T>): Promise<T> {
  ctx.signal.throwIfAborted();
  return abortable(work(), ctx.signal);
}

/** The principal of the call, or `undefined` when auth is disabled. */
export function principalOf(ctx: HandlerContext): string | undefined {
  return ctx.values.get(principalKey);
}

/**
 * Reads a session and checks that the caller may see it. With auth enabled a
 * session of another principal fails exactly like a missing one (NOT_FOUND
 * SessionNotFound), so ids cannot be probed; an expired session of another
 * principal (or of unknown owner) also reads as not found.
 */
export async function visibleSession(
  deps: ServiceDeps,
  ctx: HandlerContext,
  sessionId: string,
): Promise<SessionRecord> {
  const principal = principalOf(ctx);
  let record: SessionRecord;
  try {
    record = await run(ctx, () => deps.store.getSession(sessionId));
  } catch (err) {
    // With auth, every "no such session" answer is built here, so a missing
    // session and another principal's read exactly alike.
    if (principal !== undefined && isStoreError(err, 'SessionNotFound')) throw sessionNotFound(sessionId, err);
    if (principal !== undefined && isStoreError(err, 'SessionExpired') && err.details['owner'] !== principal) {
      throw sessionNotFound(sessionId, err);
    }
    throw err;
  }
  if (principal !== undefined && record.owner !== principal) throw sessionNotFound(sessionId);
  return record;
}

/** Checks visibility only when auth is enabled (without auth every session is visible). */
export async function checkSession(deps: ServiceDeps, ctx: HandlerContext, sessionId: string): Promise<void> {
  if (principalOf(ctx) !== undefined) await visibleSession(deps, ctx, sessionId);
}
