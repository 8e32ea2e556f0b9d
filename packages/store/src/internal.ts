// Internal helpers of the stores: value snapshots, glob matching, paging,
// validation of names and metadata, a lazily grown ring buffer. Not exported
// from the package entry point.
import { STORE_RULES } from './limits.js';
import type { Metadata } from './session-store.js';
import { StoreError } from './store-error.js';

/** The shared empty metadata map. */
export const EMPTY_METADATA: Metadata = Object.freeze({});

/** A value prepared for storage: a private, deep-frozen copy, plus whether it holds unfreezable parts. */
export interface ValueSnapshot {
  readonly value: unknown;
  /** True when the value holds binary buffers, Maps, Sets or Dates, which cannot be frozen: copy on read. */
  readonly mutable: boolean;
}

/**
 * Copies `value` deeply and freezes every plain part. Primitives are returned
 * as they are (no allocation). Typed arrays, ArrayBuffers, Maps, Sets and Dates
 * are copied and flagged `mutable`, because freezing cannot protect them.
 */
export function snapshotValue(value: unknown): ValueSnapshot {
  if (typeof value !== 'object' || value === null) return { value, mutable: false };
  const state = { mutable: false };
  return { value: copyFreeze(value, state, 0), mutable: state.mutable };
}

/** Returns a fresh copy of a stored value that holds unfreezable parts. */
export function copyValue(value: unknown): unknown {
  return copyFreeze(value, { mutable: false }, 0);
}

function copyFreeze(value: unknown, state: { mutable: boolean }, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 1000) throw new StoreError('InvalidArgument', 'value is nested too deeply (more than 1000 levels)');
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyFreeze(value[i], state, depth + 1);
    return Object.freeze(out);
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
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(k, copyFreeze(v, state, depth + 1));
    return out;
  }
  if (value instanceof Set) {
    state.mutable = true;
    const out = new Set<unknown>();
    for (const v of value) out.add(copyFreeze(v, state, depth + 1));
    return out;
  }
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(value))
    out[key] = copyFreeze((value as Record<string, unknown>)[key], state, depth + 1);
  return Object.freeze(out);
}

/** Deep-freezes a JSON-like object (copying it first), for tool parameters. */
export function frozenJsonCopy(value: Record<string, unknown>, what: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('InvalidArgument', `${what} must be a JSON object`, { details: { field: what } });
  }
  return snapshotValue(value).value as Readonly<Record<string, unknown>>;
}

/**
 * A compiled glob: `*` matches any run (also empty), `?` one character, every
 * other character itself; the whole name must match. Runs in O(name × pattern)
 * worst case, with no backtracking blow-up.
 */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (typeof pattern !== 'string') {
    throw new StoreError('InvalidArgument', 'pattern must be a string', { details: { field: 'pattern' } });
  }
  if (pattern.length > STORE_RULES.maxPatternLength) {
    throw new StoreError('InvalidArgument', `pattern is longer than ${STORE_RULES.maxPatternLength} characters`, {
      details: { field: 'pattern' },
    });
  }
  if (pattern === '' || pattern === '*') return () => true;
  if (!pattern.includes('*') && !pattern.includes('?')) return (name) => name === pattern;
  return (name) => globMatch(pattern, name);
}

function globMatch(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pi < p.length && (pc === '?' || pc === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && pc === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Resolves a page size: absent/0 is the default, above the maximum is clamped, negative or fractional is an error. */
export function resolvePageSize(pageSize: number | undefined): number {
  if (pageSize === undefined || pageSize === 0) return STORE_RULES.defaultPageSize;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 0) {
    throw new StoreError('InvalidArgument', `pageSize must be a non-negative integer, got ${String(pageSize)}`, {
      details: { field: 'pageSize' },
    });
  }
  return Math.min(pageSize, STORE_RULES.maxPageSize);
}

/** Encodes the last key of a page as an opaque token. */
export function encodePageToken(lastKey: string): string {
  return Buffer.from(`k:${lastKey}`, 'utf8').toString('base64url');
}

/** Decodes a page token to the last key of the previous page (`undefined` for the first page). */
export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  if (typeof token === 'string' && /^[A-Za-z0-9_-]+$/.test(token)) {
    const text = Buffer.from(token, 'base64url').toString('utf8');
    if (text.startsWith('k:') && encodePageToken(text.slice(2)) === token) return text.slice(2);
  }
  throw new StoreError('InvalidArgument', 'pageToken is not a token returned by a previous page', {
    details: { field: 'pageToken' },
  });
}

/** The index of the first element of sorted `items` greater than `key`. */
export function upperBound(items: readonly string[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Checks a variable or tool name against the documented rule. */
export function checkName(name: unknown, what: 'variable' | 'tool'): string {
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

/** Validates a metadata map and returns a frozen copy (the shared empty map when empty). */
export function checkMetadata(metadata: unknown, field = 'metadata'): Metadata {
  if (metadata === undefined || metadata === null) return EMPTY_METADATA;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new StoreError('InvalidArgument', `${field} must be an object of string values`, { details: { field } });
  }
  const keys = Object.keys(metadata);
  if (keys.length === 0) return EMPTY_METADATA;
  if (keys.length > STORE_RULES.maxMetadataEntries) {
    throw new StoreError('InvalidArgument', `${field} has more than ${STORE_RULES.maxMetadataEntries} entries`, {
      details: { field },
    });
  }
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = (metadata as Record<string, unknown>)[key];
    if (typeof v !== 'string') {
      throw new StoreError('InvalidArgument', `${field}[${JSON.stringify(key)}] must be a string`, {
        details: { field },
      });
    }
    if (key.length === 0 || key.length > STORE_RULES.maxMetadataKeyLength) {
      throw new StoreError(
        'InvalidArgument',
        `${field} keys must be 1-${STORE_RULES.maxMetadataKeyLength} characters`,
        {
          details: { field },
        },
      );
    }
    if (v.length > STORE_RULES.maxMetadataValueLength) {
      throw new StoreError(
        'InvalidArgument',
        `${field}[${JSON.stringify(key)}] is longer than ${STORE_RULES.maxMetadataValueLength} characters`,
        { details: { field } },
      );
    }
    out[key] = v;
  }
  return Object.freeze(out);
}

/** Merges a write's metadata into a variable's metadata, enforcing the entry limit. */
export function mergeMetadata(base: Metadata, extra: Metadata): Metadata {
  if (extra === EMPTY_METADATA) return base;
  if (base === EMPTY_METADATA) return extra;
  const merged = { ...base, ...extra };
  if (Object.keys(merged).length > STORE_RULES.maxMetadataEntries) {
    throw new StoreError('InvalidArgument', `metadata would have more than ${STORE_RULES.maxMetadataEntries} entries`, {
      details: { field: 'metadata' },
    });
  }
  return Object.freeze(merged);
}

/** Checks an optional version argument (a non-negative safe integer). */
export function checkVersion(version: unknown, field: string): number | undefined {
  if (version === undefined) return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new StoreError('InvalidArgument', `${field} must be a non-negative integer, got ${String(version)}`, {
      details: { field },
    });
  }
  return version;
}

/** Renders an engine value (bound, actual value) as text for a violation. */
export function toText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}

/** A ring buffer that allocates as it fills, up to `capacity` items (0 keeps nothing). */
export class Ring<T> {
  private items: T[] = [];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {}

  /** Number of retained items. */
  get size(): number {
    return this.count;
  }

  /** Appends, evicting the oldest item when full. */
  push(item: T): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      this.items.push(item);
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The i-th retained item, 0 being the oldest. */
  at(i: number): T {
    return this.items[(this.start + i) % this.capacity] as T;
  }
}
