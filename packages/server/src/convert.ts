// Store records <-> wire messages. Values go wire -> fromWire -> store (which
// validates with the variable's compiled type) -> record -> the compiled
// type's toWire.
import { create } from '@bufbuild/protobuf';
import type { JsonObject, MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  SessionSchema,
  ToolSpecSchema,
  VariableEventKind,
  VariableHistoryEntrySchema,
  VariableSchema,
  WatchVariablesResponseSchema,
} from '@unified-bridge/proto';
import type { Session, ToolSpec, Value, Variable, VariableHistoryEntry } from '@unified-bridge/proto';
import type {
  StoredHistoryEntry,
  SessionRecord,
  ToolRecord,
  StoredVariable,
  WatchEvent,
  WatchEventKind,
} from '@unified-bridge/store';
import { compileType, fromWire, toWire } from '@unified-bridge/types';
import { valueText } from '@unified-bridge/types/internal';
import { Code } from '@connectrpc/connect';
import { ErrorType } from '@unified-bridge/proto';
import { connectError, invalidArgument } from './errors.js';

/** A session record as the wire Session (the owner is never sent). */
export function sessionToProto(r: SessionRecord): Session {
  return create(SessionSchema, {
    id: r.id,
    metadata: { ...r.metadata },
    createdAt: timestampFromMs(r.createdAt),
    lastUsedAt: timestampFromMs(r.lastUsedAt),
    expiresAt: timestampFromMs(r.expiresAt),
    ttlSeconds: Math.min(0xffffffff, Math.ceil(r.ttlMs / 1000)),
    variableCount: r.variableCount,
    toolCount: r.toolCount,
  });
}

/**
 * Encodes a normalised value with the variable's compiled type (so a `json`
 * variable holding `3` is sent as json_value, not double_value); falls back
 * to the type-agnostic encoder if the type cannot be compiled.
 */
export function valueToWire(type: string, constraints: Readonly<Record<string, unknown>>, value: unknown): Value {
  const compiled = compileType(type, constraints as Record<string, unknown>);
  return compiled.ok ? compiled.compiled.toWire(value) : toWire(value);
}

/** A variable record as the wire Variable. */
export function variableToProto(r: StoredVariable): Variable {
  return create(VariableSchema, {
    id: r.id,
    name: r.name,
    type: r.type,
    value: valueToWire(r.type, r.constraints, r.value),
    constraints: toJsonObject(r.constraints),
    metadata: { ...r.metadata },
    version: BigInt(r.version),
    revision: BigInt(r.revision),
    createdAt: timestampFromMs(r.createdAt),
    updatedAt: timestampFromMs(r.updatedAt),
  });
}

/** A history entry as the wire VariableHistoryEntry (encoded with the variable's type). */
export function historyEntryToProto(variable: StoredVariable, e: StoredHistoryEntry): VariableHistoryEntry {
  return create(VariableHistoryEntrySchema, {
    version: BigInt(e.version),
    value: valueToWire(variable.type, variable.constraints, e.value),
    updatedAt: timestampFromMs(e.updatedAt),
    metadata: { ...e.metadata },
  });
}

const EVENT_KINDS: Readonly<Record<WatchEventKind, VariableEventKind>> = {
  initial: VariableEventKind.INITIAL,
  synced: VariableEventKind.SYNCED,
  created: VariableEventKind.CREATED,
  updated: VariableEventKind.UPDATED,
  deleted: VariableEventKind.DELETED,
  rolled_back: VariableEventKind.ROLLED_BACK,
};

/** A store watch event as the wire WatchVariablesResponse. */
export function watchEventToProto(e: WatchEvent): MessageInitShape<typeof WatchVariablesResponseSchema> {
  return create(WatchVariablesResponseSchema, {
    kind: EVENT_KINDS[e.kind],
    revision: BigInt(e.revision),
    ...(e.variable !== undefined ? { variable: variableToProto(e.variable) } : {}),
  });
}

/** Constraints (plain JSON data) as a protobuf Struct value. */
function toJsonObject(o: Readonly<Record<string, unknown>>): JsonObject {
  return JSON.parse(JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as JsonObject;
}

/**
 * Decodes a request Value into a JS value for the store; an absent Value or
 * one the codec rejects is INVALID_ARGUMENT (ValidationError) naming `field`.
 */
export function valueFromWire(field: string, value: Value | undefined): unknown {
  if (value === undefined || value.kind.case === undefined) {
    throw connectError(Code.InvalidArgument, ErrorType.VALIDATION_ERROR, `${field} is required`, {
      fieldViolations: [{ field, constraint: 'required', description: `${field} is required` }],
    });
  }
  const r = fromWire(value);
  if (r.ok) return r.value;
  const message = r.violations.map((v) => v.message).join('; ');
  throw connectError(Code.InvalidArgument, ErrorType.VALIDATION_ERROR, message, {
    fieldViolations: r.violations.map((v) => ({
      field: v.path !== undefined && v.path !== '' ? `${field}${v.path.startsWith('/') ? '' : '/'}${v.path}` : field,
      constraint: v.constraint,
      description: v.message,
      expected: valueText(v.expected),
      actual: valueText(v.actual),
    })),
  });
}

/** An int64 request field as a safe JS number; out of range is INVALID_ARGUMENT. */
export function int64ToNumber(field: string, v: bigint): number {
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidArgument(field, `${field} ${v} is out of range`);
  }
  return Number(v);
}

/**
 * An optional `expected_version` request field as store options: `{}` when
 * absent, else `{ expectedVersion }` (out of the safe range is INVALID_ARGUMENT).
 */
export function expectedVersionOption(field: string, v: bigint | undefined): { expectedVersion?: number } {
  return v === undefined ? {} : { expectedVersion: int64ToNumber(field, v) };
}

/** A non-negative int32 request field (page sizes, limits); negative is INVALID_ARGUMENT. */
export function nonNegative(field: string, v: number): number {
  if (v < 0) throw invalidArgument(field, `${field} must be >= 0, got ${v}`);
  return v;
}

/** A tool record as the wire ToolSpec (owner and global set by the server). */
export function toolToProto(t: ToolRecord): ToolSpec {
  return create(ToolSpecSchema, {
    name: t.name,
    description: t.description,
    ...(t.parameters !== undefined ? { parameters: toJsonObject(t.parameters) } : {}),
    streaming: t.streaming,
    metadata: { ...t.metadata },
    owner: t.owner,
    global: t.global,
  });
}
