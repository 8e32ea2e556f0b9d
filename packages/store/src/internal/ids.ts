// Generated ids of sessions and variables.
// @private Internal code, does not follow semantic versioning.
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * A new session id: `sess_` and 32 hex characters of a random UUID. The caller checks it is not taken.
 * @private Internal code, does not follow semantic versioning.
 */
export function newSessionId(): string {
  return `sess_${randomUUID().replaceAll('-', '')}`;
}

/**
 * A new variable id, `var_<name>_<12 hex>` (48 random bits), as a flat string.
 * @private Internal code, does not follow semantic versioning.
 */
export function newVariableId(name: string): string {
  return flat(`var_${name}_${randomSuffix()}`);
}

/**
 * The name part of an id made by {@link newVariableId} (`undefined` when `id`
 * has not that shape). A name may contain `_`, so the random suffix is cut at the last one.
 * @private Internal code, does not follow semantic versioning.
 */
export function variableNameOfId(id: string): string | undefined {
  if (!id.startsWith('var_')) return undefined;
  const cut = id.lastIndexOf('_');
  return cut > 4 ? id.slice(4, cut) : undefined;
}

let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** 12 random hex characters (48 bits), from a pooled random buffer. */
function randomSuffix(): string {
  if (randomOffset + 6 > randomPool.length) {
    randomPool = randomBytes(6 * 1024);
    randomOffset = 0;
  }
  const suffix = randomPool.toString('hex', randomOffset, randomOffset + 6);
  randomOffset += 6;
  return suffix;
}

/** Returns `s` as a flat string (a concatenation otherwise keeps its parts alive). */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}
