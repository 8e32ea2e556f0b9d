// A backend's limits option: the defaults merged with what the caller gives.
// @private Internal code, does not follow semantic versioning.
import { DEFAULT_STORE_LIMITS, type StoreLimits } from '../limits.js';

/** Every limit's name. */
const LIMIT_NAMES = Object.keys(DEFAULT_STORE_LIMITS) as (keyof StoreLimits)[];

/** Limits that must be at least 1 (0 would make the store unusable); the others may be 0. */
const AT_LEAST_ONE: readonly (keyof StoreLimits)[] = ['sessionTtlMs', 'watcherBufferSize'];

/**
 * Merges `limits` over {@link DEFAULT_STORE_LIMITS} and freezes the result.
 * `backend` names the class in error messages (for example `"MemoryStore"`).
 * @throws RangeError naming an unknown limit, or a limit that is not a safe integer in range.
 * @private Internal code, does not follow semantic versioning.
 */
export function resolveStoreLimits(limits: Partial<StoreLimits> | undefined, backend: string): Readonly<StoreLimits> {
  const resolved: StoreLimits = { ...DEFAULT_STORE_LIMITS };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!(LIMIT_NAMES as string[]).includes(key)) {
      throw new RangeError(`${backend}: unknown limit "${key}"; known limits are ${LIMIT_NAMES.join(', ')}`);
    }
    if (value === undefined) continue;
    const min = (AT_LEAST_ONE as string[]).includes(key) ? 1 : 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`${backend}: limits.${key} must be an integer >= ${min}, got ${String(value)}`);
    }
    resolved[key as keyof StoreLimits] = value;
  }
  return Object.freeze(resolved);
}
