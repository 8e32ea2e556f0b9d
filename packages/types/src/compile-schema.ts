import { LRUCache } from 'lru-cache';
import { canonicalJson } from './canonical.js';
import { buildSchemaValidator } from './schema.js';
import type { CompiledSchemaResult } from './types.js';

const cache = new LRUCache<string, CompiledSchemaResult>({
  max: 500,
  maxSize: 64 * 1024 * 1024,
  sizeCalculation: (_v, key) => 1024 + key.length * 16,
});

/**
 * Compiles a JSON Schema (e.g. a tool's parameter schema) with the same ajv + RE2 setup as the `json`
 * type: every `pattern` runs in linear time, only local `$ref`s, bounded size and depth, `format` is
 * an annotation. Violations name the failing JSON Schema keyword as `constraint` and carry `path` as
 * a JSON pointer into the value. Results are cached by canonical schema text (bounded LRU). Never
 * throws.
 * @example
 * const r = compileSchema({ type: 'object', required: ['q'], properties: { q: { type: 'string' } } });
 * if (r.ok) r.validate({}); // { ok: false, violations: [{ constraint: 'required', path: '', ... }] }
 */
export function compileSchema(schema: unknown): CompiledSchemaResult {
  let key: string | undefined;
  try {
    key = canonicalJson(schema);
  } catch {
    key = undefined; // not JSON: buildSchemaValidator reports why
  }
  if (key !== undefined) {
    const hit = cache.get(key);
    if (hit) return hit;
  }
  const r = buildSchemaValidator(schema);
  const result: CompiledSchemaResult = r.ok ? { ok: true, validate: r.validate } : r;
  if (key !== undefined) cache.set(key, result);
  return result;
}
