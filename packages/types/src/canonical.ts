import { isPlainObject } from './json-value.js';

/**
 * Canonical JSON text of a JSON value: object keys sorted, no whitespace. Equal values give equal
 * text, so it serves as a cache key. Throws a TypeError for anything that is not JSON (undefined,
 * functions, bigint, non-finite numbers, cycles, class instances).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set<object>());
}

function write(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${String(value)} is not a JSON number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`a ${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  if (seen.has(value)) throw new TypeError('a cyclic structure is not a JSON value');
  seen.add(value);
  let text: string;
  if (Array.isArray(value)) {
    text = `[${value.map((v: unknown) => write(v, seen)).join(',')}]`;
  } else {
    if (!isPlainObject(value)) {
      throw new TypeError('only plain objects are JSON objects');
    }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    text = `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], seen)}`).join(',')}}`;
  }
  seen.delete(value);
  return text;
}
