// The rules of updateVariables that do not depend on where variables live:
// the shape of a batch, one update per variable, and the one error of a
// rejected atomic batch.
// @private Internal code, does not follow semantic versioning.
import type { UpdateVariablesOptions, VariableUpdate } from '../session-store.js';
import { StoreError, isStoreError, type StoreViolation } from '../store-error.js';
import { invalidArgument } from './store-errors.js';

/**
 * Checks a batch: an array, `options.atomic` a boolean, every update with a
 * string identifier, and no variable named twice (by the same identifier, or
 * by its name and its id). `variableNameOf` resolves an identifier to the
 * variable's name (`undefined` when it names none).
 * @throws `InvalidArgument`.
 * @private Internal code, does not follow semantic versioning.
 */
export function checkBatch(
  updates: readonly VariableUpdate[],
  options: UpdateVariablesOptions,
  variableNameOf: (identifier: string) => string | undefined,
): void {
  if (!Array.isArray(updates)) throw invalidArgument('updates must be an array');
  if (typeof options?.atomic !== 'boolean') throw invalidArgument('options.atomic must be true or false', 'atomic');
  // The same identifier, or two identifiers of one variable.
  const seen = new Map<string, string>();
  for (const u of updates) {
    if (typeof u !== 'object' || u === null || typeof u.identifier !== 'string') {
      throw invalidArgument('every update needs a string identifier', 'identifier');
    }
    const key = variableNameOf(u.identifier) ?? `\u0000${u.identifier}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new StoreError(
        'InvalidArgument',
        `updates ${JSON.stringify(prev)} and ${JSON.stringify(u.identifier)} name the same variable; a batch may update a variable once`,
        { details: { field: 'identifier', identifier: u.identifier } },
      );
    }
    seen.set(key, u.identifier);
  }
}

/**
 * Prepares every update (validation only, nothing applied), keeping each
 * StoreError as that update's outcome; anything else thrown propagates.
 * @private Internal code, does not follow semantic versioning.
 */
export function prepareEach<P>(
  updates: readonly VariableUpdate[],
  prepare: (update: VariableUpdate) => P,
): (P | StoreError)[] {
  return updates.map((u) => {
    try {
      return prepare(u);
    } catch (err) {
      if (isStoreError(err)) return err;
      throw err;
    }
  });
}

/**
 * The one error of an atomic batch with failed updates (`undefined` when none
 * failed): the type of the first failure, every failure in `violations` with
 * `field` = the update's identifier, and `currentVersion`/`limit` when exactly one failed.
 * @private Internal code, does not follow semantic versioning.
 */
export function atomicBatchError(
  updates: readonly VariableUpdate[],
  outcomes: readonly unknown[],
): StoreError | undefined {
  const failures = outcomes
    .map((o, i) => ({ o, identifier: (updates[i] as VariableUpdate).identifier }))
    .filter((x): x is { o: StoreError; identifier: string } => x.o instanceof StoreError);
  const first = failures[0];
  if (first === undefined) return undefined;
  const violations: StoreViolation[] = [];
  for (const { o, identifier } of failures) {
    if (o.violations.length > 0) {
      for (const v of o.violations) violations.push({ ...v, field: identifier });
    } else {
      violations.push({ field: identifier, constraint: o.type, message: o.message });
    }
  }
  return new StoreError(
    first.o.type,
    `atomic batch rejected, nothing was applied: ${failures.length} of ${updates.length} updates failed (${failures
      .map((f) => `${f.identifier}: ${f.o.message}`)
      .join('; ')})`,
    {
      violations,
      details: { ...first.o.details, failed: String(failures.length) },
      currentVersion: failures.length === 1 ? first.o.currentVersion : undefined,
      limit: failures.length === 1 ? first.o.limit : undefined,
    },
  );
}
