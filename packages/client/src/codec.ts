import type { JsonObject } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { Value, Variable, VariableHistoryEntry } from '@unified-bridge/proto';
import { compileType, fromWire, toWire, type CompiledType, type Violation } from '@unified-bridge/types';
import { TYPE_NAMES, valueText } from '@unified-bridge/types/internal';
import { BridgeError, localValidationError, type BridgeFieldViolation } from './errors.js';

/**
 * A variable as the client reports it: plain JS values, versions and
 * revisions as numbers. Records returned by the client are shared with its
 * cache: treat them (and their values) as read-only.
 */
export interface VariableRecord<T = unknown> {
  /** The id, `var_<name>_<random>`. */
  readonly id: string;
  /** The name, unique in the session. */
  readonly name: string;
  /** The type name (`float`, `integer`, `string`, ..., or a server-registered custom type). */
  readonly type: string;
  /** The current value, normalised by `@unified-bridge/types` (integers beyond 2^53 are bigint). */
  readonly value: T;
  /** The constraints (for example `{ min: 0, max: 1 }`); `{}` when none. */
  readonly constraints: Readonly<Record<string, unknown>>;
  /** Free-form metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The version: 0 at registration, + 1 per update. */
  readonly version: number;
  /** The session revision of the variable's last change (monotonic within the session). */
  readonly revision: number;
  /** When the variable was registered. */
  readonly createdAt: Date | undefined;
  /** When the value last changed. */
  readonly updatedAt: Date | undefined;
}

/** One retained version of a variable (see `session.history`). */
export interface HistoryEntry<T = unknown> {
  /** The version. */
  readonly version: number;
  /** The value at that version. */
  readonly value: T;
  /** When that version was written. */
  readonly updatedAt: Date | undefined;
  /** The metadata given with that write. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The built-in type names the local engine validates; other (custom) types are left to the server. */
const LOCAL_TYPES: ReadonlySet<string> = new Set(TYPE_NAMES);

/** Converts engine violations to field violations of `field`. */
export function fieldViolations(field: string, violations: readonly Violation[]): BridgeFieldViolation[] {
  return violations.map((v) => ({
    field: v.path ? `${field}${v.path}` : field,
    constraint: v.constraint,
    description: v.message,
    expected: valueText(v.expected),
    actual: valueText(v.actual),
  }));
}

/**
 * Compiles a type locally. Returns undefined for a type the local engine does
 * not know (a custom server type: the server alone validates it).
 */
export function compileLocal(
  name: string,
  type: string,
  constraints: Readonly<Record<string, unknown>> | undefined,
): CompiledType | undefined {
  if (!LOCAL_TYPES.has(type)) return undefined;
  const r = compileType(type, constraints ?? {});
  if (r.ok) return r.compiled;
  throw localValidationError(
    `invalid type or constraints for variable '${name}': ${r.violations.map((v) => v.message).join('; ')}`,
    fieldViolations('constraints', r.violations),
    { variable: name },
  );
}

/**
 * Validates `value` against `compiled` (when known) and encodes it for the
 * wire; a failure is a local ValidationError (no round trip). Without a
 * compiled type the value is encoded by inference and the server validates it.
 */
export function encodeValue(name: string, compiled: CompiledType | undefined, value: unknown): Value {
  if (compiled === undefined) {
    try {
      return toWire(value);
    } catch (e) {
      throw localValidationError(
        `cannot encode the value of '${name}': ${e instanceof Error ? e.message : String(e)}`,
        [],
        { variable: name },
      );
    }
  }
  const r = compiled.validate(value);
  if (!r.ok) {
    throw localValidationError(
      `invalid value for variable '${name}': ${r.violations.map((v) => v.message).join('; ')}`,
      fieldViolations(name, r.violations),
      { variable: name },
    );
  }
  return compiled.toWire(r.value);
}

/** Decodes a wire value; an undecodable one is an Internal error (the server broke the contract). */
export function decodeValue(value: Value | undefined, where: string): unknown {
  if (value === undefined) throw new BridgeError('Internal', `the server sent no value for ${where}`);
  const r = fromWire(value);
  if (r.ok) return r.value;
  throw new BridgeError(
    'Internal',
    `the server sent an undecodable value for ${where}: ${r.violations.map((v) => v.message).join('; ')}`,
  );
}

/** Brings a decoded value into the normalised form of its type (an embedding is its typed array). */
function normalise(type: string, value: unknown): unknown {
  if (type === 'embedding' && typeof value === 'object' && value !== null && 'data' in value && 'dtype' in value) {
    return (value as { data: unknown }).data;
  }
  return value;
}

/** Converts a wire Variable into a {@link VariableRecord}. */
export function recordFromWire(v: Variable | undefined): VariableRecord {
  if (v === undefined) throw new BridgeError('Internal', 'the server sent a response without its variable');
  return {
    id: v.id,
    name: v.name,
    type: v.type,
    value: normalise(v.type, decodeValue(v.value, `variable '${v.name}'`)),
    constraints: (v.constraints ?? {}) as JsonObject,
    metadata: v.metadata,
    version: Number(v.version),
    revision: Number(v.revision),
    createdAt: v.createdAt ? timestampDate(v.createdAt) : undefined,
    updatedAt: v.updatedAt ? timestampDate(v.updatedAt) : undefined,
  };
}

/** Converts a wire history entry. */
export function historyFromWire(name: string, type: string, e: VariableHistoryEntry): HistoryEntry {
  return {
    version: Number(e.version),
    value: normalise(type, decodeValue(e.value, `variable '${name}' version ${String(e.version)}`)),
    updatedAt: e.updatedAt ? timestampDate(e.updatedAt) : undefined,
    metadata: e.metadata,
  };
}

/** A version option as the wire's uint64 (RangeError naming the option unless a non-negative integer). */
export function versionToWire(name: string, v: number | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${String(v)}`);
  return BigInt(v);
}
