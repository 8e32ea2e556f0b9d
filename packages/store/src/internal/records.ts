// The records a store hands out, built the same way by every backend, and the
// idle-TTL rule they report.
// @private Internal code, does not follow semantic versioning.
import type { Metadata, SessionRecord, StoredVariable, ToolRecord } from '../session-store.js';
import type { CheckedToolInput } from './checks.js';

/**
 * Whether a session last used at `lastUsedAt` with idle TTL `ttlMs` has expired at `now`.
 * @private Internal code, does not follow semantic versioning.
 */
export function isExpired(lastUsedAt: number, ttlMs: number, now: number): boolean {
  return now >= lastUsedAt + ttlMs;
}

/**
 * What a backend knows of a session, to build its {@link SessionRecord}.
 * @private Internal code, does not follow semantic versioning.
 */
export type SessionFields = Omit<SessionRecord, 'expiresAt'>;

/**
 * The frozen record of a session (`expiresAt` is `lastUsedAt + ttlMs`).
 * @private Internal code, does not follow semantic versioning.
 */
export function sessionRecord(fields: SessionFields): SessionRecord {
  return Object.freeze({
    id: fields.id,
    owner: fields.owner,
    metadata: fields.metadata,
    createdAt: fields.createdAt,
    lastUsedAt: fields.lastUsedAt,
    expiresAt: fields.lastUsedAt + fields.ttlMs,
    ttlMs: fields.ttlMs,
    variableCount: fields.variableCount,
    toolCount: fields.toolCount,
    revision: fields.revision,
  });
}

/**
 * The frozen record of a variable after a write of `value` at `revision` and
 * time `now`: the version after `previous`, keeping its id, name, type,
 * constraints and creation time.
 * @private Internal code, does not follow semantic versioning.
 */
export function nextVariableRecord(
  previous: StoredVariable,
  value: unknown,
  metadata: Metadata,
  revision: number,
  now: number,
): StoredVariable {
  return Object.freeze({
    id: previous.id,
    name: previous.name,
    type: previous.type,
    value,
    constraints: previous.constraints,
    metadata,
    version: previous.version + 1,
    revision,
    createdAt: previous.createdAt,
    updatedAt: now,
  });
}

/**
 * The frozen record of a newly registered variable (version 0).
 * @private Internal code, does not follow semantic versioning.
 */
export function registeredVariableRecord(
  fields: Omit<StoredVariable, 'version' | 'createdAt' | 'updatedAt'> & { readonly now: number },
): StoredVariable {
  return variableRecord({ ...fields, version: 0, createdAt: fields.now, updatedAt: fields.now });
}

/**
 * The frozen record of a variable from all its fields (for a backend that reads
 * them back from storage); fields other than those of {@link StoredVariable} are left out.
 * @private Internal code, does not follow semantic versioning.
 */
export function variableRecord(fields: StoredVariable): StoredVariable {
  return Object.freeze({
    id: fields.id,
    name: fields.name,
    type: fields.type,
    value: fields.value,
    constraints: fields.constraints,
    metadata: fields.metadata,
    version: fields.version,
    revision: fields.revision,
    createdAt: fields.createdAt,
    updatedAt: fields.updatedAt,
  });
}

/**
 * The frozen record of a tool registered in session `sessionId` (`null`: globally) at `now`.
 * @private Internal code, does not follow semantic versioning.
 */
export function toolRecord(tool: CheckedToolInput, sessionId: string | null, now: number): ToolRecord {
  return Object.freeze({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    streaming: tool.streaming,
    metadata: tool.metadata,
    owner: tool.owner,
    global: sessionId === null,
    sessionId,
    registeredAt: now,
  });
}
