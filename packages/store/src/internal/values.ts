// Private, deep-frozen copies of caller values, so a stored value cannot be
// changed from outside and reads can hand out the stored object itself.
// @private Internal code, does not follow semantic versioning.
import { invalidArgument } from './store-errors.js';

/**
 * A value prepared for storage: a private, deep-frozen copy, plus whether it holds unfreezable parts.
 * @private Internal code, does not follow semantic versioning.
 */
export interface ValueSnapshot {
  /** The copy. */
  readonly value: unknown;
  /** True when the value holds binary buffers, Maps, Sets or Dates, which cannot be frozen: copy on read. */
  readonly mutable: boolean;
}

/**
 * Copies `value` deeply and freezes every plain part. Primitives are returned
 * as they are (no allocation). Typed arrays, ArrayBuffers, Maps, Sets and Dates
 * are copied and flagged `mutable`, because freezing cannot protect them.
 * @throws `InvalidArgument` for a value nested more than 1000 levels deep.
 * @private Internal code, does not follow semantic versioning.
 */
export function snapshotValue(value: unknown): ValueSnapshot {
  if (typeof value !== 'object' || value === null) return { value, mutable: false };
  const state = { mutable: false };
  return { value: copyFreeze(value, state, 0), mutable: state.mutable };
}

/**
 * Returns a fresh copy of a stored value that holds unfreezable parts.
 * @private Internal code, does not follow semantic versioning.
 */
export function copyValue(value: unknown): unknown {
  return copyFreeze(value, { mutable: false }, 0);
}

function copyFreeze(value: unknown, state: { mutable: boolean }, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 1000) throw invalidArgument('value is nested too deeply (more than 1000 levels)');
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyFreeze(value[i], state, depth + 1);
    return Object.freeze(copy);
  }
  if (ArrayBuffer.isView(value)) {
    state.mutable = true;
    const bytes = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
    if (value instanceof DataView) return new DataView(bytes);
    if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return new Uint8Array(bytes);
    const Ctor = value.constructor as new (buffer: ArrayBuffer) => unknown;
    return new Ctor(bytes as ArrayBuffer);
  }
  if (value instanceof ArrayBuffer) {
    state.mutable = true;
    return value.slice(0);
  }
  if (value instanceof Date) {
    state.mutable = true;
    return new Date(value.getTime());
  }
  if (value instanceof Map) {
    state.mutable = true;
    const copy = new Map<unknown, unknown>();
    for (const [k, v] of value) copy.set(k, copyFreeze(v, state, depth + 1));
    return copy;
  }
  if (value instanceof Set) {
    state.mutable = true;
    const copy = new Set<unknown>();
    for (const v of value) copy.add(copyFreeze(v, state, depth + 1));
    return copy;
  }
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(value))
    copy[key] = copyFreeze((value as Record<string, unknown>)[key], state, depth + 1);
  return Object.freeze(copy);
}

/**
 * Deep-freezes a JSON-like object (copying it first), for tool parameters.
 * @throws `InvalidArgument` naming `what` when `value` is not an object.
 * @private Internal code, does not follow semantic versioning.
 */
export function frozenJsonCopy(value: Record<string, unknown>, what: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${what} must be a JSON object`, what);
  }
  return snapshotValue(value).value as Readonly<Record<string, unknown>>;
}

/**
 * Whether `v` is a promise or another thenable (a callback that returned one).
 * @private Internal code, does not follow semantic versioning.
 */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}
