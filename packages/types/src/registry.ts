// The type registry and the compile cache. Built-in and custom types go through the same path:
// constraint keys and values are checked against the type's declared constraint schemas, then the
// type's own cross-checks run, then its validator is built, once per canonical (type, constraints).
import { Ajv, type ValidateFunction } from 'ajv';
import { LRUCache } from 'lru-cache';
import type { Value } from '@unified-bridge/proto';
import { booleanType, choiceType, floatType, integerType, moduleType, stringType } from './builtin-scalars.js';
import { embeddingType, jsonType, tensorType } from './builtin-structured.js';
import { canonicalJson } from './canonical.js';
import { formatValue } from './format.js';
import { cloneJson, isPlainObject } from './json-value.js';
import type {
  CompiledType,
  CompileResult,
  ConstraintDefinition,
  Constraints,
  TypeDefinition,
  ValidationResult,
  Violation,
} from './types.js';

/** Most compiled (type, constraints) entries kept; least recently used ones are dropped. */
export const COMPILE_CACHE_MAX = 1000;

interface RegisteredType {
  def: TypeDefinition;
  constraintValidators: ReadonlyMap<string, ValidateFunction>;
  allowedText: string;
}

const registry = new Map<string, RegisteredType>();
// Constraint schemas are written by type authors (trusted, few): plain ajv without the RE2 pool.
const trustedAjv = new Ajv({ allErrors: false, strict: false, logger: false });

const compileCache = new LRUCache<string, CompileResult>({
  max: COMPILE_CACHE_MAX,
  // A compiled validator is roughly proportional to its constraint text (json schemas dominate).
  maxSize: 64 * 1024 * 1024,
  sizeCalculation: (_value, key) => 1024 + key.length * 16,
});

let compileCount = 0;

/** Internal numbers for tests: cache size and how many compilations actually ran. */
export function compileCacheStats(): { size: number; compiles: number } {
  return { size: compileCache.size, compiles: compileCount };
}

const TYPE_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Registers a variable type so that `compileType(name, constraints)` works for it. Built-in types are
 * registered through this same function. Throws a TypeError for a malformed definition or a name
 * that is already registered (built-ins cannot be replaced).
 * @example
 * registerType({
 *   name: 'percent',
 *   description: 'a number from 0 to 100',
 *   constraints: {},
 *   compile: () => (v) =>
 *     typeof v === 'number' && v >= 0 && v <= 100
 *       ? { ok: true, value: v }
 *       : { ok: false, violations: [{ constraint: 'type', message: `Cannot convert ${formatValue(v)} to percent` }] },
 *   toWire: (v) => toWire(v),
 * });
 */
export function registerType<T>(def: TypeDefinition<T>): void {
  if (typeof def !== 'object' || def === null) {
    throw new TypeError('registerType(def): def must be a TypeDefinition object');
  }
  if (typeof def.name !== 'string' || !TYPE_NAME.test(def.name)) {
    throw new TypeError(`registerType(def): def.name must match ${TYPE_NAME.source}, got ${formatValue(def.name)}`);
  }
  if (registry.has(def.name)) {
    throw new TypeError(`registerType(def): type '${def.name}' is already registered`);
  }
  if (typeof def.compile !== 'function' || typeof def.toWire !== 'function') {
    throw new TypeError(`registerType(def): type '${def.name}' needs compile(constraints) and toWire(value) functions`);
  }
  if (def.check !== undefined && typeof def.check !== 'function') {
    throw new TypeError(`registerType(def): def.check of type '${def.name}' must be a function`);
  }
  if (typeof def.constraints !== 'object' || def.constraints === null) {
    throw new TypeError(`registerType(def): def.constraints of type '${def.name}' must be an object (use {} for none)`);
  }
  const validators = new Map<string, ValidateFunction>();
  for (const [key, spec] of Object.entries(def.constraints)) {
    if (typeof spec !== 'object' || spec === null || typeof spec.expects !== 'string') {
      throw new TypeError(`registerType(def): constraint '${key}' of type '${def.name}' needs { schema, expects }`);
    }
    try {
      validators.set(key, trustedAjv.compile(spec.schema));
    } catch (err) {
      throw new TypeError(
        `registerType(def): constraint '${key}' of type '${def.name}' has an invalid schema: ${(err as Error).message}`,
      );
    }
  }
  const keys = [...validators.keys()];
  registry.set(def.name, {
    def: def as TypeDefinition,
    constraintValidators: validators,
    allowedText: keys.length > 0 ? keys.join(', ') : 'none',
  });
}

/** Names of every registered type, built-ins first. */
export function registeredTypeNames(): string[] {
  return [...registry.keys()];
}

/** The definition registered under `name`, if any. */
export function typeDefinition(name: string): TypeDefinition | undefined {
  return registry.get(name)?.def;
}

// Built-in types use the same registration path as custom types.
for (const def of [
  floatType,
  integerType,
  stringType,
  booleanType,
  choiceType,
  moduleType,
  embeddingType,
  tensorType,
  jsonType,
] as TypeDefinition[]) {
  registerType(def);
}

function exampleText(key: string, spec: ConstraintDefinition): string {
  if (spec.example === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(spec.example);
  } catch {
    text = formatValue(spec.example);
  }
  return ` (e.g. ${key}: ${text})`;
}

function fail(violations: Violation[]): CompileResult {
  return { ok: false, violations };
}

/**
 * Compiles a variable type with its constraints into a reusable validator and encoder. Results,
 * failures included, are cached by canonical (type, constraints) text in a bounded LRU
 * (`COMPILE_CACHE_MAX` entries), so registering 10,000 variables with the same constraints compiles
 * once. Null-valued constraints count as absent. Never throws.
 * @example
 * const r = compileType('float', { min: 0, max: 1 });
 * if (r.ok) r.compiled.validate(1.5); // { ok: false, violations: [{ constraint: 'max', message: 'value 1.5 is above maximum 1', ... }] }
 */
export function compileType(type: string, constraints?: Constraints | null): CompileResult {
  try {
    return compileTypeUnsafe(type, constraints);
  } catch (err) {
    return fail([
      {
        constraint: 'type',
        message: `cannot compile type ${formatValue(type)}: ${err instanceof Error ? err.message : String(err)}`,
      },
    ]);
  }
}

function compileTypeUnsafe(type: string, constraints: Constraints | null | undefined): CompileResult {
  const entry = typeof type === 'string' ? registry.get(type) : undefined;
  if (!entry) {
    return fail([
      {
        constraint: 'type',
        message: `unknown type ${typeof type === 'string' ? `'${type}'` : formatValue(type)}; known types: ${registeredTypeNames().join(', ')}`,
        actual: type,
        expected: registeredTypeNames(),
      },
    ]);
  }
  const input = constraints ?? {};
  if (!isPlainObject(input)) {
    return fail([
      {
        constraint: 'constraints',
        message: `constraints must be a JSON object like { "min": 0 }, got ${formatValue(input)}`,
      },
    ]);
  }
  const given: Record<string, unknown> = {};
  const keyParts: string[] = [];
  const violations: Violation[] = [];
  for (const key of Object.keys(input).sort()) {
    const value = input[key];
    if (value === null || value === undefined) continue;
    try {
      keyParts.push(`${JSON.stringify(key)}:${canonicalJson(value)}`);
      given[key] = value;
    } catch (err) {
      violations.push({
        constraint: key,
        message: `constraint '${key}' must be a JSON value: ${(err as Error).message}`,
      });
    }
  }
  if (violations.length > 0) return fail(violations);
  const cacheKey = `${type}:{${keyParts.join(',')}}`;
  const cached = compileCache.get(cacheKey);
  if (cached) return cached;
  const result = build(entry, type, given, cacheKey);
  compileCache.set(cacheKey, result);
  return result;
}

function build(entry: RegisteredType, type: string, given: Record<string, unknown>, key: string): CompileResult {
  compileCount += 1;
  const { def, constraintValidators, allowedText } = entry;
  const violations: Violation[] = [];
  for (const [name, value] of Object.entries(given)) {
    const check = constraintValidators.get(name);
    if (!check) {
      violations.push({
        constraint: name,
        message: `unknown constraint '${name}' for type ${type}; allowed: ${allowedText}`,
        actual: name,
        expected: [...constraintValidators.keys()],
      });
      continue;
    }
    if (!check(value)) {
      const spec = def.constraints[name]!;
      violations.push({
        constraint: name,
        message: `constraint '${name}' for type ${type} must be ${spec.expects}${exampleText(name, spec)}, got ${formatValue(value)}`,
        actual: value,
      });
    }
  }
  for (const [name, spec] of Object.entries(def.constraints)) {
    if (spec.required && !(name in given)) {
      violations.push({
        constraint: name,
        message: `constraint '${name}' is required for type ${type}: ${spec.expects}${exampleText(name, spec)}`,
      });
    }
  }
  if (violations.length > 0) return fail(violations);
  const frozen = deepFreeze(cloneJson(given));
  if (def.check) {
    let extra: Violation[];
    try {
      extra = def.check(frozen);
    } catch (err) {
      extra = [
        {
          constraint: 'constraints',
          message: `checking the constraints of type ${type} failed: ${(err as Error).message}`,
        },
      ];
    }
    if (extra.length > 0) return fail(extra);
  }
  const validateFn = def.compile(frozen);
  if (typeof validateFn !== 'function') {
    return fail([{ constraint: 'type', message: `type ${type}: compile(constraints) did not return a function` }]);
  }
  const validate = (value: unknown): ValidationResult => {
    try {
      return validateFn(value);
    } catch (err) {
      return {
        ok: false,
        violations: [
          {
            constraint: 'type',
            message: `Cannot convert ${formatValue(value)} to ${type}: ${err instanceof Error ? err.message : String(err)}`,
          },
        ],
      };
    }
  };
  const encode = def.toWire;
  const compiled: CompiledType = Object.freeze({
    type,
    constraints: frozen,
    key,
    validate,
    toWire: (value: unknown): Value => encode(value),
  });
  return { ok: true, compiled };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
