// The anchored glob of listVariables.
// @private Internal code, does not follow semantic versioning.
import { STORE_RULES } from '../limits.js';
import { invalidArgument } from './store-errors.js';

/**
 * A compiled glob: `*` matches any run (also empty), `?` one character, every
 * other character itself; the whole name must match. Runs in O(name × pattern)
 * worst case, with no backtracking blow-up. `""` and `"*"` match every name.
 * @throws `InvalidArgument` for a non-string or a pattern longer than `STORE_RULES.maxPatternLength`.
 * @private Internal code, does not follow semantic versioning.
 */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (typeof pattern !== 'string') throw invalidArgument('pattern must be a string', 'pattern');
  if (pattern.length > STORE_RULES.maxPatternLength) {
    throw invalidArgument(`pattern is longer than ${STORE_RULES.maxPatternLength} characters`, 'pattern');
  }
  if (pattern === '' || pattern === '*') return () => true;
  if (!pattern.includes('*') && !pattern.includes('?')) return (name) => name === pattern;
  return (name) => globMatch(pattern, name);
}

/** Greedy matching with one backtrack point (the last `*`): linear in practice, quadratic at worst. */
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
