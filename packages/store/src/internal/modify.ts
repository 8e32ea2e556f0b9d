// modifyVariable's read-modify-write loop on top of expectedVersion, the same
// for every backend.
// @private Internal code, does not follow semantic versioning.
import { STORE_RULES } from '../limits.js';
import type { ModifyVariableOptions } from '../session-store.js';
import { StoreError, isStoreError } from '../store-error.js';
import { isThenable } from './values.js';

/**
 * Checks `fn` and `maxRetries` of `modifyVariable`; returns the retry budget
 * (`STORE_RULES.defaultModifyRetries` when absent).
 * @throws `InvalidArgument`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkModifyArgs(fn: unknown, options: ModifyVariableOptions): number {
  if (typeof fn !== 'function') throw new StoreError('InvalidArgument', 'fn must be a function');
  const maxRetries = options.maxRetries ?? STORE_RULES.defaultModifyRetries;
  if (typeof maxRetries !== 'number' || !Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new StoreError('InvalidArgument', `maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
  }
  return maxRetries;
}

/**
 * Runs read, `fn`, write until the write does not fail with `VersionConflict`,
 * at most `maxRetries` times more. `write` gets the record `fn` saw and must
 * apply only if the variable is still at its version. When `read`, `fn` and
 * `write` are synchronous, nothing awaits between them, so an in-process
 * backend runs the whole attempt as one critical section.
 * @private Internal code, does not follow semantic versioning.
 */
export async function modifyWithRetries<R>(
  maxRetries: number,
  read: () => R | PromiseLike<R>,
  fn: (current: R) => unknown,
  write: (current: R, next: unknown) => R | PromiseLike<R>,
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let current = read();
    if (isThenable(current)) current = await current;
    let next = fn(current as R);
    if (isThenable(next)) next = await next;
    try {
      let written = write(current as R, next);
      if (isThenable(written)) written = await written;
      return written as R;
    } catch (err) {
      if (isStoreError(err, 'VersionConflict') && attempt < maxRetries) continue;
      throw err;
    }
  }
}
