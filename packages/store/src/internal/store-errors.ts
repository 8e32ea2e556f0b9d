// The StoreErrors that every backend raises for the same failure, so the
// messages, details and types are written once.
// @private Internal code, does not follow semantic versioning.
import type { StoreLimits } from '../limits.js';
import { StoreError } from '../store-error.js';

/**
 * An `InvalidArgument` error; `field` (when given) goes to `details.field`.
 * @private Internal code, does not follow semantic versioning.
 */
export function invalidArgument(message: string, field?: string): StoreError {
  return new StoreError('InvalidArgument', message, field === undefined ? undefined : { details: { field } });
}

/**
 * The `StoreClosed` error of every call after `close()`.
 * @private Internal code, does not follow semantic versioning.
 */
export function storeClosed(): StoreError {
  return new StoreError('StoreClosed', 'the store was closed');
}

/**
 * A `ResourceExhausted` error for a configured limit; `limit` and `details`
 * name the limit and its configured value.
 * @private Internal code, does not follow semantic versioning.
 */
export function limitReached(limits: Readonly<StoreLimits>, limit: keyof StoreLimits, message: string): StoreError {
  return new StoreError('ResourceExhausted', `${message} (limit ${limit})`, {
    limit,
    details: { limit, value: String(limits[limit]) },
  });
}

/**
 * The `SessionNotFound` error of an unknown session id.
 * @private Internal code, does not follow semantic versioning.
 */
export function sessionNotFound(sessionId: unknown): StoreError {
  return new StoreError('SessionNotFound', `session ${String(sessionId)} not found`, {
    details: { session: String(sessionId) },
  });
}

/**
 * The `SessionNotFound` error that ends the watchers of a closed session (`details.reason` is `"closed"`).
 * @private Internal code, does not follow semantic versioning.
 */
export function sessionClosed(sessionId: string): StoreError {
  return new StoreError('SessionNotFound', `session ${sessionId} was closed`, {
    details: { session: sessionId, reason: 'closed' },
  });
}

/**
 * The `SessionExpired` error of a session; `details.owner` names its owner
 * (`""` when none), so a server can show "expired" to the owner only.
 * @private Internal code, does not follow semantic versioning.
 */
export function sessionExpired(sessionId: string, owner: string): StoreError {
  return new StoreError('SessionExpired', `session ${sessionId} expired`, { details: { session: sessionId, owner } });
}

/**
 * The `AlreadyExists` error of a live session id.
 * @private Internal code, does not follow semantic versioning.
 */
export function sessionAlreadyExists(sessionId: string): StoreError {
  return new StoreError('AlreadyExists', `session ${sessionId} already exists`, { details: { session: sessionId } });
}

/**
 * The `VariableNotFound` error of an identifier (name or id) that names no variable.
 * @private Internal code, does not follow semantic versioning.
 */
export function variableNotFound(sessionId: string, identifier: unknown): StoreError {
  return new StoreError('VariableNotFound', `variable ${String(identifier)} not found in session ${sessionId}`, {
    details: { session: sessionId, variable: String(identifier) },
  });
}

/**
 * The `AlreadyExists` error of a variable name taken in the session.
 * @private Internal code, does not follow semantic versioning.
 */
export function variableAlreadyExists(sessionId: string, name: string): StoreError {
  return new StoreError('AlreadyExists', `variable ${name} already exists in session ${sessionId}`, {
    details: { session: sessionId, variable: name },
  });
}

/**
 * The `VariableNotFound` error of a rollback to a version no longer retained.
 * @private Internal code, does not follow semantic versioning.
 */
export function versionNotRetained(sessionId: string, name: string, version: number): StoreError {
  return new StoreError('VariableNotFound', `version ${version} of variable ${name} is not in its retained history`, {
    details: { session: sessionId, variable: name, version: String(version) },
  });
}

/**
 * Throws `VersionConflict` (with `currentVersion`) when `expected` is given and
 * differs from the variable's current version.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkExpectedVersion(name: string, current: number, expected: number | undefined): void {
  if (expected === undefined || expected === current) return;
  throw new StoreError('VersionConflict', `variable ${name} is at version ${current}, not the expected ${expected}`, {
    currentVersion: current,
    details: { variable: name, expected: String(expected), current: String(current) },
  });
}

/**
 * The `ToolNotFound` error of a name that no tool visible to the session has.
 * @private Internal code, does not follow semantic versioning.
 */
export function toolNotFound(sessionId: string, name: unknown): StoreError {
  return new StoreError('ToolNotFound', `tool ${String(name)} not found in session ${sessionId}`, {
    details: { tool: String(name), session: sessionId },
  });
}

/**
 * The `ToolNotFound` error of `unregisterTool` when the scope has no such tool
 * of that owner. `scope` is `null` for the global scope.
 * @private Internal code, does not follow semantic versioning.
 */
export function toolNotOwned(scope: string | null, name: unknown, owner: unknown): StoreError {
  return new StoreError(
    'ToolNotFound',
    `no tool ${String(name)} owned by ${String(owner)} in ${describeToolScope(scope)}`,
    { details: { tool: String(name), owner: String(owner) } },
  );
}

/**
 * Where a tool name is already taken, for the `AlreadyExists` error of
 * `registerTool`: by another owner in the same scope, by a global tool (for a
 * session tool), or by a session's tool (for a global tool).
 * @private Internal code, does not follow semantic versioning.
 */
export type ToolNameClash =
  | { readonly kind: 'owner'; readonly owner: string }
  | { readonly kind: 'global'; readonly owner: string }
  | { readonly kind: 'session'; readonly owner: string; readonly sessionId: string };

/**
 * The `AlreadyExists` error of a tool name that is taken (see {@link ToolNameClash}).
 * @private Internal code, does not follow semantic versioning.
 */
export function toolNameTaken(name: string, clash: ToolNameClash): StoreError {
  const details = { tool: name, owner: clash.owner };
  switch (clash.kind) {
    case 'owner':
      return new StoreError('AlreadyExists', `tool ${name} is already registered by ${clash.owner}`, { details });
    case 'global':
      return new StoreError('AlreadyExists', `tool ${name} is already registered as a global tool`, { details });
    case 'session':
      return new StoreError('AlreadyExists', `tool ${name} is already registered in session ${clash.sessionId}`, {
        details: { ...details, session: clash.sessionId },
      });
  }
}

/**
 * How errors name a tool scope: `"the global scope"` for `null`, else `"session <id>"`.
 * @private Internal code, does not follow semantic versioning.
 */
export function describeToolScope(sessionId: string | null): string {
  return sessionId === null ? 'the global scope' : `session ${sessionId}`;
}
