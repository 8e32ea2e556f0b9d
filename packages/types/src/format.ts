const MAX_STRING_CHARS = 64;

/**
 * Renders a value the way messages show it: strings in single quotes (`'abc'`), numbers as JS prints
 * them (`1.5`, `NaN`, `-0`), bigints without the `n` (`3n` -> `3`), typed arrays by class and length.
 * Long strings and structures are shortened with `…`. Never throws.
 * @example formatValue('abc') // "'abc'"
 */
export function formatValue(value: unknown): string {
  try {
    return format(value, 0);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value}]`; // a Proxy whose traps throw
    }
  }
}

function format(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return `'${truncate(value)}'`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return value.toString();
    case 'function':
      return 'function';
    default:
      break;
  }
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor?.name ?? 'TypedArray';
    const length = (value as { length?: number }).length ?? value.byteLength;
    return `${name}(${length})`;
  }
  if (depth >= 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, 5).map((v: unknown) => format(v, depth + 1));
    if (value.length > 5) items.push('…');
    return `[${items.join(', ')}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (
    proto !== null &&
    (Object.getPrototypeOf(proto) !== null || Object.prototype.toString.call(value) !== '[object Object]')
  ) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `[object ${name}]` : Object.prototype.toString.call(value);
  }
  const keys = Object.keys(value as object);
  const items = keys.slice(0, 5).map((k) => `${k}: ${format((value as Record<string, unknown>)[k], depth + 1)}`);
  if (keys.length > 5) items.push('…');
  return `{${items.join(', ')}}`;
}

function truncate(s: string): string {
  if (s.length <= MAX_STRING_CHARS) return s;
  let end = MAX_STRING_CHARS;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1; // do not split a surrogate pair
  return `${s.slice(0, end)}…`;
}

/** Formats a list of allowed values for `must be one of: a, b` (strings unquoted, as the original did). */
export function formatList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : formatValue(v))).join(', ');
}

/** Formats a shape or a plain number list as `[2, 3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
