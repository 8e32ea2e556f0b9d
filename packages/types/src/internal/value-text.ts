// @private Internal code of unified-bridge, does not follow semantic versioning.
//
// The text form of a violation's `expected` and `actual` values, as the wire's
// FieldViolation carries them (store, server and client render them alike).

/**
 * A value as text: `''` for undefined (absent), strings as they are, numbers,
 * bigints and booleans as `String()` gives them (`NaN`, `-1`, `12345678901234567890`),
 * anything else as JSON with bigints in decimal (`[2,3]`, `{"a":"1"}`); what
 * has no JSON form (a function, a cycle) as `String()` gives it. Never throws.
 *
 * @example
 * valueText(1.5); // "1.5"
 * valueText([2, 3]); // "[2,3]"
 */
export function valueText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return safeString(value);
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value); // an object whose toString throws or is missing
  }
}
