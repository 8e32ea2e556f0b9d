// The shape of watch events and the checks of a watch subscription, the same
// for every backend.
// @private Internal code, does not follow semantic versioning.
import type { StoreWatchOptions, StoredVariable, WatchEvent, WatchEventKind } from '../session-store.js';
import { StoreError } from '../store-error.js';
import { checkName, checkVersion } from './checks.js';

/**
 * The kinds of a change event: everything but the snapshot kinds `initial` and `synced`.
 * @private Internal code, does not follow semantic versioning.
 */
export type ChangeKind = Exclude<WatchEventKind, 'initial' | 'synced'>;

/**
 * A frozen change event: `variable` after the change at session revision `revision`.
 * @private Internal code, does not follow semantic versioning.
 */
export function changeEvent(kind: ChangeKind, revision: number, variable: StoredVariable): WatchEvent {
  return Object.freeze({ kind, revision, variable });
}

/**
 * A frozen `initial` event: a watched variable's value at the snapshot's revision.
 * @private Internal code, does not follow semantic versioning.
 */
export function initialEvent(revision: number, variable: StoredVariable): WatchEvent {
  return Object.freeze({ kind: 'initial', revision, variable });
}

/**
 * A frozen `synced` event at the session's current revision (no variable).
 * @private Internal code, does not follow semantic versioning.
 */
export function syncedEvent(revision: number): WatchEvent {
  return Object.freeze({ kind: 'synced', revision });
}

/**
 * The checked options of a watch.
 * @private Internal code, does not follow semantic versioning.
 */
export interface CheckedWatchOptions {
  /** The watched names, or `null` for every variable. */
  readonly names: ReadonlySet<string> | null;
  /** Resume after this revision; `undefined` starts at the current revision. */
  readonly sinceRevision: number | undefined;
}

/**
 * Checks a watch's `names` and `sinceRevision` against the session's current `revision`.
 * @throws `InvalidArgument` for a bad name, a bad revision or one ahead of the session.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkWatchOptions(options: StoreWatchOptions, revision: number): CheckedWatchOptions {
  let names: Set<string> | null = null;
  if (options.names !== undefined && options.names.length > 0) {
    names = new Set(options.names.map((n) => checkName(n, 'variable')));
  }
  const since = checkVersion(options.sinceRevision, 'sinceRevision');
  if (since !== undefined && since > revision) {
    throw new StoreError('InvalidArgument', `sinceRevision ${since} is ahead of the session's revision ${revision}`, {
      details: { field: 'sinceRevision', revision: String(revision) },
    });
  }
  return { names, sinceRevision: since };
}

/**
 * Throws `Compacted` (with `oldestRevision`) when resuming after
 * `sinceRevision` needs changes older than the oldest one retained.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkResumable(sinceRevision: number, oldestRetained: number): void {
  if (sinceRevision >= oldestRetained - 1) return;
  throw new StoreError(
    'Compacted',
    `revision ${sinceRevision} is no longer retained; the oldest retained change is revision ${oldestRetained}`,
    { oldestRevision: oldestRetained, details: { oldestRevision: String(oldestRetained) } },
  );
}
