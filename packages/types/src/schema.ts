// JSON Schema compilation shared by the `json` type's `schema` constraint and by tool-argument
// schemas: ajv with every `pattern` on RE2, local `$ref`s only, bounded size and depth, and a pool of
// ajv instances that is renewed so that compiling many distinct schemas cannot grow memory without
// bound (an ajv instance keeps per-schema state in its code-generation scope for its whole life).
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { LRUCache } from 'lru-cache';
import { canonicalJson } from './canonical.js';
import { checkJsonValue } from './json-value.js';
import { compilePattern, type SafePattern } from './regex.js';
import type { ValidationResult, Violation } from './types.js';

/** Largest schema accepted, in characters of its canonical JSON text. */
export const MAX_SCHEMA_CHARS = 100_000;
/** Deepest nesting of objects/arrays accepted in a schema. */
export const MAX_SCHEMA_DEPTH = 32;
/** Compilations after which an ajv instance is replaced (its scope is then freed with its validators). */
export const COMPILES_PER_INSTANCE = 200;

/** The JSON Schema dialects a schema may declare with `$schema`. */
const DIALECTS = ['draft-07', '2019-09', '2020-12'] as const;
type Dialect = (typeof DIALECTS)[number];

const isDialect = (d: string): d is Dialect => (DIALECTS as readonly string[]).includes(d);

const patternCache = new LRUCache<string, SafePattern>({ max: 1000 });

/** Pattern engine given to ajv as `code.regExp`: RE2, ECMA-262 semantics, throws on unsupported patterns. */
const re2Engine = Object.assign(
  (pattern: string): SafePattern => {
    const r = cachedPattern(pattern);
    if (!r.ok) throw new PatternError(`pattern '${pattern}' ${r.message}`);
    return r.pattern;
  },
  { code: 'unifiedBridgeRe2' },
);

class PatternError extends Error {}

/** Compiles a pattern through the shared bounded cache. */
export function cachedPattern(pattern: string): { ok: true; pattern: SafePattern } | { ok: false; message: string } {
  const cached = patternCache.get(pattern);
  if (cached) return { ok: true, pattern: cached };
  const r = compilePattern(pattern);
  if (r.ok) patternCache.set(pattern, r.pattern);
  return r;
}

const ajvOptions: Options = {
  allErrors: true,
  strict: false,
  validateFormats: false, // `format` is an annotation (no ajv-formats); documented in the README
  logger: false,
  addUsedSchema: false,
  code: { regExp: re2Engine },
};

interface PoolEntry {
  ajv: Ajv;
  compiles: number;
}
const pool = new Map<Dialect, PoolEntry>();
let instancesCreated = 0;

function instanceFor(dialect: Dialect): Ajv {
  let entry = pool.get(dialect);
  if (!entry || entry.compiles >= COMPILES_PER_INSTANCE) {
    const ajv =
      dialect === '2020-12'
        ? new Ajv2020(ajvOptions)
        : dialect === '2019-09'
          ? new Ajv2019(ajvOptions)
          : new Ajv(ajvOptions);
    instancesCreated += 1;
    entry = { ajv, compiles: 0 };
    pool.set(dialect, entry);
  }
  entry.compiles += 1;
  return entry.ajv;
}

/** Internal numbers for tests: how many ajv instances were created, and what the live ones hold. */
export function schemaEngineStats(): { instancesCreated: number; liveCachedSchemas: number } {
  let live = 0;
  for (const { ajv } of pool.values()) {
    live += (ajv as unknown as { _cache: Map<unknown, unknown> })._cache.size;
  }
  return { instancesCreated, liveCachedSchemas: live };
}

function dialectOf(schema: unknown): Dialect | string {
  if (typeof schema !== 'object' || schema === null) return 'draft-07';
  const uri = (schema as Record<string, unknown>)['$schema'];
  if (uri === undefined) return 'draft-07';
  if (typeof uri !== 'string') return String(uri);
  if (/json-schema\.org\/draft-07\/schema#?$/.test(uri)) return 'draft-07';
  if (/json-schema\.org\/draft\/2019-09\/schema#?$/.test(uri)) return '2019-09';
  if (/json-schema\.org\/draft\/2020-12\/schema#?$/.test(uri)) return '2020-12';
  return uri;
}

const REF_KEYS = new Set(['$ref', '$dynamicRef', '$recursiveRef']);
const DATA_KEYS = new Set(['enum', 'const', 'default', 'examples']);

/** Structural checks before ajv sees the schema: size, depth, remote references. */
function precheck(schema: unknown, constraint: string): Violation[] {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    return [
      {
        constraint,
        message: `${constraint} must be a JSON Schema (an object or a boolean), got ${describe(schema)}`,
      },
    ];
  }
  let text: string;
  try {
    text = canonicalJson(schema);
  } catch (err) {
    return [{ constraint, message: `${constraint} must be JSON: ${(err as Error).message}` }];
  }
  if (text.length > MAX_SCHEMA_CHARS) {
    return [
      {
        constraint,
        message: `${constraint} is too large (${text.length} characters of JSON; the limit is ${MAX_SCHEMA_CHARS}); split it or simplify it`,
        expected: MAX_SCHEMA_CHARS,
        actual: text.length,
      },
    ];
  }
  const violations: Violation[] = [];
  const checkPattern = (p: string, path: string): void => {
    const r = cachedPattern(p);
    if (!r.ok)
      violations.push({
        constraint,
        message: `${constraint} has pattern '${p}' at ${path} that ${r.message}`,
        path,
        actual: p,
      });
  };
  let tooDeep = false;
  const visit = (node: unknown, depth: number, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    if (depth > MAX_SCHEMA_DEPTH) {
      tooDeep = true;
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((v: unknown, i) => visit(v, depth + 1, `${path}/${i}`));
      return;
    }
    for (const [key, v] of Object.entries(node as Record<string, unknown>)) {
      if (DATA_KEYS.has(key)) continue; // instance data, not schema
      if (key === 'pattern' && typeof v === 'string') checkPattern(v, `${path}/pattern`);
      if (key === 'patternProperties' && typeof v === 'object' && v !== null) {
        for (const p of Object.keys(v)) checkPattern(p, `${path}/patternProperties`);
      }
      if (REF_KEYS.has(key) && typeof v === 'string' && !v.startsWith('#')) {
        violations.push({
          constraint,
          message: `${constraint} uses a remote ${key} '${v}' at ${path || '/'}; only local references (#/...) are supported: inline the referenced schema under $defs`,
          path: `${path}/${key}`,
          actual: v,
        });
      }
      visit(v, depth + 1, `${path}/${key}`);
    }
  };
  visit(schema, 1, '');
  if (tooDeep) {
    violations.push({
      constraint,
      message: `${constraint} is nested deeper than ${MAX_SCHEMA_DEPTH} levels; flatten it with $defs and $ref`,
      expected: MAX_SCHEMA_DEPTH,
    });
  }
  return violations;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Turns one ajv error into a violation; `constraint` overrides the keyword when given. */
function toViolation(e: ErrorObject, constraint: string | undefined): Violation {
  const params = e.params as Record<string, unknown>;
  let msg = e.message ?? `must pass ${e.keyword}`;
  if (e.keyword === 'pattern') msg = `must match pattern ${String(params['pattern'])}`;
  else if (e.keyword === 'additionalProperties') {
    msg = `must NOT have additional property '${String(params['additionalProperty'])}'`;
  }
  const path = e.instancePath;
  const v: Violation = {
    constraint: constraint ?? e.keyword,
    message: path ? `${path} ${msg}` : msg,
    path,
  };
  const expected =
    params['pattern'] ?? params['limit'] ?? params['allowedValues'] ?? params['allowedValue'] ?? params['type'];
  if (expected !== undefined) v.expected = expected;
  return v;
}

/** A compiled JSON Schema validator that never throws. */
export type SchemaValidator = (value: unknown) => ValidationResult;

/**
 * Compiles `schema` with the shared ajv + RE2 setup. `constraint` names the constraint in every
 * violation (the `json` type uses `schema`); without it, violations carry the failing ajv keyword.
 */
export function buildSchemaValidator(
  schema: unknown,
  constraint?: string,
): { ok: true; validate: SchemaValidator } | { ok: false; violations: Violation[] } {
  const label = constraint ?? 'schema';
  const pre = precheck(schema, label);
  if (pre.length > 0) return { ok: false, violations: pre };
  const dialect = dialectOf(schema);
  if (!isDialect(dialect)) {
    return {
      ok: false,
      violations: [
        {
          constraint: label,
          message: `${label} declares an unsupported $schema '${dialect}'; use draft-07, 2019-09 or 2020-12, or omit $schema (draft-07)`,
          actual: dialect,
        },
      ],
    };
  }
  const ajv = instanceFor(dialect);
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(schema as object | boolean);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      violations: [{ constraint: label, message: `${label} is not a valid JSON Schema: ${detail}` }],
    };
  } finally {
    if (typeof schema === 'object') {
      try {
        ajv.removeSchema(schema as object);
      } catch {
        /* nothing cached */
      }
    }
  }
  const validate: SchemaValidator = (value) => {
    const bad = checkJsonValue(value);
    if (bad) return { ok: false, violations: [bad] };
    try {
      if (fn(value)) return { ok: true, value };
      const errors = fn.errors ?? [];
      return { ok: false, violations: errors.map((e) => toViolation(e, constraint)) };
    } catch (err) {
      return {
        ok: false,
        violations: [
          {
            constraint: label,
            message: `schema validation failed: ${err instanceof Error ? err.message : String(err)}`,
          },
        ],
      };
    }
  };
  return { ok: true, validate };
}
