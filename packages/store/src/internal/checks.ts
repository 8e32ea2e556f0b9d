// The argument checks every backend runs before it touches its state: names,
// session ids, owners, metadata, versions and the inputs of the calls built on
// them. Each returns the checked (and, for maps, frozen) value or throws an
// `InvalidArgument` StoreError; none reads or changes a store.
// @private Internal code, does not follow semantic versioning.
import { STORE_RULES } from '../limits.js';
import type { Metadata, RegisterVariableInput, StoreCreateSessionOptions, ToolInput } from '../session-store.js';
import { StoreError } from '../store-error.js';
import { invalidArgument } from './store-errors.js';
import { frozenJsonCopy } from './values.js';

/**
 * The shared empty metadata map (frozen).
 * @private Internal code, does not follow semantic versioning.
 */
export const EMPTY_METADATA: Metadata = Object.freeze({});

/**
 * What a name names, for the message of {@link checkName}.
 * @private Internal code, does not follow semantic versioning.
 */
export type NamedThing = 'variable' | 'tool';

/**
 * Checks a variable or tool name against `STORE_RULES.namePattern`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkName(name: unknown, what: NamedThing): string {
  if (typeof name !== 'string' || !STORE_RULES.namePattern.test(name)) {
    throw new StoreError(
      'InvalidArgument',
      `invalid ${what} name ${JSON.stringify(name)}: use 1-128 characters of [A-Za-z0-9_.-], starting with a letter or underscore`,
      {
        details: { field: 'name' },
        violations: [
          {
            field: 'name',
            constraint: 'pattern',
            message: 'must be 1-128 characters of [A-Za-z0-9_.-], starting with a letter or underscore',
            actual: String(name),
          },
        ],
      },
    );
  }
  return name;
}

/**
 * Checks a caller-chosen session id against `STORE_RULES.sessionIdPattern`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkSessionId(id: unknown): string {
  if (typeof id !== 'string' || !STORE_RULES.sessionIdPattern.test(id)) {
    throw invalidArgument(`invalid session id ${JSON.stringify(id)}: use 1-128 characters of [A-Za-z0-9_.:-]`, 'id');
  }
  return id;
}

/**
 * Checks a session's owner: `""` (none) or `STORE_RULES.ownerPattern`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkSessionOwner(owner: unknown): string {
  if (typeof owner !== 'string' || (owner !== '' && !STORE_RULES.ownerPattern.test(owner))) {
    throw invalidArgument('owner must be 1-128 characters of [A-Za-z0-9_.:-] or empty', 'owner');
  }
  return owner;
}

/**
 * Checks a tool's owner (`"host"` or a worker id) against `STORE_RULES.ownerPattern`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkToolOwner(owner: unknown): string {
  if (typeof owner !== 'string' || !STORE_RULES.ownerPattern.test(owner)) {
    throw invalidArgument('tool owner must be "host" or a worker id of 1-128 characters of [A-Za-z0-9_.:-]', 'owner');
  }
  return owner;
}

/**
 * Validates a metadata map against the `STORE_RULES` metadata limits and
 * returns a frozen copy ({@link EMPTY_METADATA} when absent or empty).
 * @private Internal code, does not follow semantic versioning.
 */
export function checkMetadata(metadata: unknown, field = 'metadata'): Metadata {
  if (metadata === undefined || metadata === null) return EMPTY_METADATA;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw invalidArgument(`${field} must be an object of string values`, field);
  }
  const keys = Object.keys(metadata);
  if (keys.length === 0) return EMPTY_METADATA;
  if (keys.length > STORE_RULES.maxMetadataEntries) {
    throw invalidArgument(`${field} has more than ${STORE_RULES.maxMetadataEntries} entries`, field);
  }
  const checked: Record<string, string> = {};
  for (const key of keys) {
    const v = (metadata as Record<string, unknown>)[key];
    if (typeof v !== 'string') throw invalidArgument(`${field}[${JSON.stringify(key)}] must be a string`, field);
    if (key.length === 0 || key.length > STORE_RULES.maxMetadataKeyLength) {
      throw invalidArgument(`${field} keys must be 1-${STORE_RULES.maxMetadataKeyLength} characters`, field);
    }
    if (v.length > STORE_RULES.maxMetadataValueLength) {
      throw invalidArgument(
        `${field}[${JSON.stringify(key)}] is longer than ${STORE_RULES.maxMetadataValueLength} characters`,
        field,
      );
    }
    checked[key] = v;
  }
  return Object.freeze(checked);
}

/**
 * Merges a write's metadata into a variable's metadata (the write wins),
 * enforcing the entry limit; returns `base` or `extra` itself when the other is empty.
 * @private Internal code, does not follow semantic versioning.
 */
export function mergeMetadata(base: Metadata, extra: Metadata): Metadata {
  if (extra === EMPTY_METADATA) return base;
  if (base === EMPTY_METADATA) return extra;
  const merged = { ...base, ...extra };
  if (Object.keys(merged).length > STORE_RULES.maxMetadataEntries) {
    throw invalidArgument(`metadata would have more than ${STORE_RULES.maxMetadataEntries} entries`, 'metadata');
  }
  return Object.freeze(merged);
}

/**
 * Checks an optional version or revision argument (a non-negative safe
 * integer); `undefined` passes through.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkVersion(version: unknown, field: string): number | undefined {
  if (version === undefined) return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw invalidArgument(`${field} must be a non-negative integer, got ${String(version)}`, field);
  }
  return version;
}

/**
 * The checked options of `createSession`.
 * @private Internal code, does not follow semantic versioning.
 */
export interface CheckedSessionOptions {
  /** The caller's id, or `undefined` when the backend generates one. */
  readonly id: string | undefined;
  /** The idle TTL in ms (the store's default when absent or 0). */
  readonly ttlMs: number;
  /** The owner (`""` when none). */
  readonly owner: string;
  /** The frozen metadata. */
  readonly metadata: Metadata;
}

/**
 * Checks the options of `createSession` (id, then TTL, owner and metadata).
 * @private Internal code, does not follow semantic versioning.
 */
export function checkCreateSessionOptions(
  options: StoreCreateSessionOptions,
  defaultTtlMs: number,
): CheckedSessionOptions {
  const { id: wanted, ttlMs, metadata, owner = '' } = options;
  const id = wanted === undefined || wanted === '' ? undefined : checkSessionId(wanted);
  let ttl = defaultTtlMs;
  if (ttlMs !== undefined && ttlMs !== 0) {
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
      throw invalidArgument(`ttlMs must be a positive integer, got ${String(ttlMs)}`, 'ttlMs');
    }
    ttl = ttlMs;
  }
  return { id, ttlMs: ttl, owner: checkSessionOwner(owner), metadata: checkMetadata(metadata) };
}

/**
 * The checked input of `registerVariable` (the value is checked later, by the compiled type).
 * @private Internal code, does not follow semantic versioning.
 */
export interface CheckedVariableInput {
  /** The variable name. */
  readonly name: string;
  /** The type name (not yet compiled). */
  readonly type: string;
  /** The constraints object (`{}` when absent). */
  readonly constraints: Record<string, unknown>;
  /** The frozen metadata. */
  readonly metadata: Metadata;
}

/**
 * Checks the shape of `registerVariable`'s input: name, type, constraints, metadata.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkVariableInput(input: RegisterVariableInput): CheckedVariableInput {
  if (typeof input !== 'object' || input === null) {
    throw invalidArgument('registerVariable needs { name, type, value }');
  }
  const name = checkName(input.name, 'variable');
  if (typeof input.type !== 'string' || input.type === '') {
    throw invalidArgument('type must be a non-empty string', 'type');
  }
  const constraints = input.constraints ?? {};
  if (typeof constraints !== 'object' || constraints === null || Array.isArray(constraints)) {
    throw invalidArgument('constraints must be a JSON object', 'constraints');
  }
  return { name, type: input.type, constraints, metadata: checkMetadata(input.metadata) };
}

/**
 * The checked input of `registerTool`: every field of a `ToolRecord` that the caller gives.
 * @private Internal code, does not follow semantic versioning.
 */
export interface CheckedToolInput {
  /** The tool name. */
  readonly name: string;
  /** The owner (`"host"` or a worker id). */
  readonly owner: string;
  /** The description (`""` when absent). */
  readonly description: string;
  /** Whether the tool streams (false when absent). */
  readonly streaming: boolean;
  /** A frozen copy of the parameters schema, or `undefined`. */
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
  /** The frozen metadata. */
  readonly metadata: Metadata;
}

/**
 * Checks `registerTool`'s input: name, owner, description, streaming, parameters, metadata.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkToolInput(tool: ToolInput): CheckedToolInput {
  if (typeof tool !== 'object' || tool === null) throw invalidArgument('registerTool needs { name, owner }');
  const name = checkName(tool.name, 'tool');
  const owner = checkToolOwner(tool.owner);
  const description = tool.description ?? '';
  if (typeof description !== 'string') throw invalidArgument('description must be a string', 'description');
  const streaming = tool.streaming ?? false;
  if (typeof streaming !== 'boolean') throw invalidArgument('streaming must be a boolean', 'streaming');
  const parameters = tool.parameters === undefined ? undefined : frozenJsonCopy(tool.parameters, 'parameters');
  return { name, owner, description, streaming, parameters, metadata: checkMetadata(tool.metadata) };
}

/**
 * Checks `getHistory`'s `limit` (absent is 0: every retained entry).
 * @private Internal code, does not follow semantic versioning.
 */
export function checkHistoryLimit(value: unknown): number {
  const limit = value ?? 0;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw invalidArgument(`limit must be a non-negative integer, got ${String(limit)}`, 'limit');
  }
  return limit;
}

/**
 * Checks `rollbackVariable`'s target version (required).
 * @private Internal code, does not follow semantic versioning.
 */
export function checkRollbackVersion(version: unknown): number {
  const target = checkVersion(version, 'version');
  if (target === undefined) throw invalidArgument('version is required', 'version');
  return target;
}
