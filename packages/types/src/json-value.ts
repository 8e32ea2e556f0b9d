import type { Violation } from './types.js';
import { formatValue } from './format.js';

/**
 * Deepest nesting of arrays/objects accepted in a json value. Each JSON level costs two protobuf
 * message levels on the wire (Value -> Struct/ListValue), and common protobuf decoders (Python's
 * included) stop at 100 message levels, so 32 keeps every peer able to decode what we send.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * True for a plain object (`{}` literal, `Object.create(null)`, JSON.parse output), from any realm:
 * class instances, arrays, Dates, Maps and typed arrays are not plain.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) return true;
  return Object.getPrototypeOf(proto) === null && Object.prototype.toString.call(value) === '[object Object]';
}

/** A deep copy of a JSON value (already checked to be JSON). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => cloneJson(v)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: cloneJson(v), enumerable: true, writable: true, configurable: true });
    }
    return out as T;
  }
  return value;
}

/** True when `s` has no lone surrogate, i.e. it encodes to UTF-8 losslessly. Allocation-free. */
export function isWellFormed(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
    if (d < 0xdc00 || d > 0xdfff) return false;
    i += 1;
  }
  return true;
}

/** Message for a string with a lone surrogate. */
export function loneSurrogateViolation(path?: string): Violation {
  const v: Violation = {
    constraint: 'type',
    message: 'string contains a lone surrogate, which cannot be encoded as UTF-8',
  };
  if (path !== undefined) v.path = path;
  return v;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Checks that `value` is a JSON value that survives the wire unchanged: null, booleans, finite
 * numbers, well-formed strings, arrays and plain objects, at most `MAX_JSON_DEPTH` deep, no cycles.
 * Returns the first violation found, or undefined when the value is fine. Never throws.
 */
export function checkJsonValue(value: unknown): Violation | undefined {
  try {
    return walk(value, '', 0, new Set<object>());
  } catch (err) {
    return {
      constraint: 'type',
      message: `value is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

function notJson(what: string, path: string, actual?: unknown): Violation {
  const v: Violation = {
    constraint: 'type',
    message: `${path ? `${path}: ` : ''}${what} is not a JSON value`,
  };
  if (path) v.path = path;
  if (actual !== undefined) v.actual = actual;
  return v;
}

function walk(value: unknown, path: string, depth: number, seen: Set<object>): Violation | undefined {
  switch (typeof value) {
    case 'string':
      return isWellFormed(value) ? undefined : loneSurrogateViolation(path || undefined);
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : notJson(formatValue(value), path, value);
    case 'bigint':
      return notJson(`bigint ${formatValue(value)}`, path);
    case 'undefined':
      return notJson('undefined', path);
    case 'function':
      return notJson('a function', path);
    case 'symbol':
      return notJson('a symbol', path);
    default:
      break;
  }
  if (value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) {
    const v: Violation = {
      constraint: 'type',
      message: `${path ? `${path}: ` : ''}JSON nesting deeper than ${MAX_JSON_DEPTH} levels is not supported`,
      expected: MAX_JSON_DEPTH,
    };
    if (path) v.path = path;
    return v;
  }
  const obj = value as object;
  if (seen.has(obj)) return notJson('a cyclic reference', path);
  if (Array.isArray(obj)) {
    seen.add(obj);
    for (let i = 0; i < obj.length; i++) {
      const r = walk(obj[i], `${path}/${i}`, depth + 1, seen);
      if (r) return r;
    }
    seen.delete(obj);
    return undefined;
  }
  if (!isPlainObject(obj)) return notJson(formatValue(obj), path);
  seen.add(obj);
  const rec = obj as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    if (!isWellFormed(key)) return loneSurrogateViolation(`${path}/${escapePointer(key)}`);
    if (key === '__proto__') {
      // protobuf-es decodes a Struct field named __proto__ as the object's prototype: not lossless
      return {
        constraint: 'type',
        message: `${path ? `${path}: ` : ''}the object key '__proto__' is not supported (it does not survive protobuf decoding)`,
        path: `${path}/__proto__`,
      };
    }
    const r = walk(rec[key], `${path}/${escapePointer(key)}`, depth + 1, seen);
    if (r) return r;
  }
  seen.delete(obj);
  return undefined;
}
