// Built-in scalar types: float, integer, string, boolean, choice, module.
import type { Value } from '@unified-bridge/proto';
import { boolToWire, doubleToWire, INT64_MAX, INT64_MIN, intToWire, stringToWire } from './codec.js';
import { formatList, formatValue } from './format.js';
import { cachedPattern } from './schema.js';
import type { ConstraintDefinition, Constraints, TypeDefinition, ValidationResult, Violation } from './types.js';

type Result = ValidationResult;

/** `Cannot convert <value> to <type>` as a failed result. */
export function cannotConvert(value: unknown, type: string, why?: string): Result {
  return {
    ok: false,
    violations: [
      {
        constraint: 'type',
        message: `Cannot convert ${formatValue(value)} to ${type}${why ? `: ${why}` : ''}`,
        expected: type,
        actual: value,
      },
    ],
  };
}

function one(v: Violation): Result {
  return { ok: false, violations: [v] };
}

/** `value 1.5 is above maximum 1` (constraint `max`) or `value -1 is below minimum 0` (constraint `min`). */
function outOfRange(constraint: 'min' | 'max', value: number | bigint, bound: number | bigint): Violation {
  const side = constraint === 'min' ? 'below minimum' : 'above maximum';
  return {
    constraint,
    message: `value ${formatValue(value)} is ${side} ${formatValue(bound)}`,
    expected: bound,
    actual: value,
  };
}
const below = (value: number | bigint, min: number | bigint): Violation => outOfRange('min', value, min);
const above = (value: number | bigint, max: number | bigint): Violation => outOfRange('max', value, max);

function orderCheck(c: Readonly<Constraints>, lo: string, hi: string): Violation[] {
  const a = c[lo];
  const b = c[hi];
  if (a === undefined || b === undefined) return [];
  const x = typeof a === 'string' ? BigInt(a) : (a as number);
  const y = typeof b === 'string' ? BigInt(b) : (b as number);
  return x > y
    ? [
        {
          constraint: lo,
          message: `${lo} (${formatValue(x)}) must not be greater than ${hi} (${formatValue(y)})`,
          expected: `${lo} <= ${hi}`,
          actual: { [lo]: a, [hi]: b },
        },
      ]
    : [];
}

// ---------------------------------------------------------------------------------------------
// float

const FLOAT_TEXT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Lossless conversion of a non-number input to a double, or undefined. */
function parseFloatInput(value: unknown): number | undefined {
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity' || value === '+Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (!FLOAT_TEXT.test(value)) return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined; // '1e999' does not fit a double
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    return BigInt(n) === value ? n : undefined;
  }
  return undefined;
}

const finiteNumber = (example: number): ConstraintDefinition => ({
  schema: { type: 'number' },
  expects: 'a finite number',
  example,
});

export const floatType: TypeDefinition<number> = {
  name: 'float',
  description: 'IEEE-754 double, including NaN, ±Infinity and -0',
  constraints: { min: finiteNumber(0), max: finiteNumber(1) },
  check: (c) => orderCheck(c, 'min', 'max'),
  compile(c) {
    const min = c['min'] as number | undefined;
    const max = c['max'] as number | undefined;
    return (value: unknown): ValidationResult<number> => {
      let x: number;
      if (typeof value === 'number') x = value;
      else {
        const parsed = parseFloatInput(value);
        if (parsed === undefined) {
          return cannotConvert(
            value,
            'float',
            typeof value === 'bigint' ? 'not exactly representable as a double' : undefined,
          ) as ValidationResult<number>;
        }
        x = parsed;
      }
      // NaN and ±Infinity bypass min/max, as the original system did.
      if (x - x !== 0) return { ok: true, value: x };
      if (min !== undefined && x < min) return one(below(x, min)) as ValidationResult<number>;
      if (max !== undefined && x > max) return one(above(x, max)) as ValidationResult<number>;
      return { ok: true, value: x };
    };
  },
  toWire(value: number): Value {
    if (typeof value !== 'number') throw new TypeError(`float toWire expects a number, got ${formatValue(value)}`);
    return doubleToWire(value);
  },
};

// ---------------------------------------------------------------------------------------------
// integer

const INT_TEXT = /^[+-]?[0-9]+$/;
const OUT_OF_RANGE = `outside the int64 range [${INT64_MIN}, ${INT64_MAX}]`;

function normaliseBig(b: bigint): number | bigint | undefined {
  if (b < INT64_MIN || b > INT64_MAX) return undefined;
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

const integerBound = (example: number): ConstraintDefinition => ({
  schema: {
    anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[+-]?[0-9]+$' }],
  },
  expects: 'an integer (a decimal string for bounds beyond 2^53)',
  example,
});

function integerBoundValue(v: unknown): number | bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : normaliseBig(BigInt(v));
  return normaliseBig(BigInt(v as string));
}

export const integerType: TypeDefinition<number | bigint> = {
  name: 'integer',
  description: 'signed 64-bit integer, exact over the whole range',
  constraints: { min: integerBound(0), max: integerBound(10) },
  check(c) {
    const out: Violation[] = [];
    for (const k of ['min', 'max']) {
      if (c[k] !== undefined && integerBoundValue(c[k]) === undefined) {
        out.push({ constraint: k, message: `${k} ${formatValue(c[k])} is ${OUT_OF_RANGE}`, actual: c[k] });
      }
    }
    return out.length > 0 ? out : orderCheck(c, 'min', 'max');
  },
  compile(c) {
    const min = integerBoundValue(c['min']);
    const max = integerBoundValue(c['max']);
    return (value: unknown): ValidationResult<number | bigint> => {
      let x: number | bigint;
      if (typeof value === 'number') {
        if (Number.isSafeInteger(value))
          x = value === 0 ? 0 : value; // -0 has no int64 form
        else if (Number.isInteger(value)) {
          const big = normaliseBig(BigInt(value));
          if (big === undefined) return cannotConvert(value, 'integer', OUT_OF_RANGE) as ValidationResult<number>;
          x = big;
        } else return cannotConvert(value, 'integer') as ValidationResult<number>;
      } else if (typeof value === 'bigint' || (typeof value === 'string' && INT_TEXT.test(value))) {
        const big = normaliseBig(BigInt(value));
        if (big === undefined) return cannotConvert(value, 'integer', OUT_OF_RANGE) as ValidationResult<number>;
        x = big;
      } else return cannotConvert(value, 'integer') as ValidationResult<number>;
      if (min !== undefined && x < min) return one(below(x, min)) as ValidationResult<number>;
      if (max !== undefined && x > max) return one(above(x, max)) as ValidationResult<number>;
      return { ok: true, value: x };
    };
  },
  toWire(value: number | bigint): Value {
    if (typeof value === 'bigint' || Number.isSafeInteger(value)) return intToWire(value);
    throw new TypeError(`integer toWire expects a safe integer or a bigint, got ${formatValue(value)}`);
  },
};

// ---------------------------------------------------------------------------------------------
// string

const nonNegativeInt = (example: number): ConstraintDefinition => ({
  schema: { type: 'integer', minimum: 0 },
  expects: 'a non-negative integer (counted in Unicode code points)',
  example,
});
const stringList = (
  expects: string,
  example: string[],
  { required = false }: { readonly required?: boolean } = {},
): ConstraintDefinition => ({
  schema: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
  expects,
  example,
  required,
});

/**
 * Counts the code points of `s`, or returns -1 when it has a lone surrogate. Allocation-free.
 */
export function codePointLength(s: string): number {
  const n = s.length;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00 || i + 1 >= n) return -1;
      const d = s.charCodeAt(i + 1);
      if (d < 0xdc00 || d > 0xdfff) return -1;
      i += 1;
    }
    count += 1;
  }
  return count;
}

const LONE_SURROGATE = 'it contains a lone surrogate, which cannot be encoded as UTF-8';

export const stringType: TypeDefinition<string> = {
  name: 'string',
  description: 'UTF-8 text',
  constraints: {
    min_length: nonNegativeInt(3),
    max_length: nonNegativeInt(10),
    pattern: {
      schema: { type: 'string' },
      expects: 'a regular expression (ECMA-262 syntax, unanchored unless anchored with ^ and $)',
      example: '^[A-Z]+[0-9]+$',
    },
    enum: stringList('a non-empty array of distinct strings', ['a', 'b']),
  },
  check(c) {
    const out = orderCheck(c, 'min_length', 'max_length');
    const p = c['pattern'];
    if (typeof p === 'string') {
      const r = cachedPattern(p);
      if (!r.ok) {
        out.push({ constraint: 'pattern', message: `pattern '${p}' ${r.message}`, actual: p });
      }
    }
    return out;
  },
  compile(c) {
    const minLength = c['min_length'] as number | undefined;
    const maxLength = c['max_length'] as number | undefined;
    const patternText = c['pattern'] as string | undefined;
    const pattern = patternText === undefined ? undefined : cachedPattern(patternText);
    const matcher = pattern?.ok ? pattern.pattern : undefined;
    const enumValues = c['enum'] as string[] | undefined;
    const enumSet = enumValues ? new Set(enumValues) : undefined;
    const enumText = enumValues ? formatList(enumValues) : '';
    return (value: unknown): ValidationResult<string> => {
      if (typeof value !== 'string') return cannotConvert(value, 'string') as ValidationResult<string>;
      const length = codePointLength(value);
      if (length < 0) return cannotConvert(value, 'string', LONE_SURROGATE) as ValidationResult<string>;
      let violations: Violation[] | undefined;
      if (minLength !== undefined && length < minLength) {
        (violations ??= []).push({
          constraint: 'min_length',
          message: `must be at least ${minLength} characters, got ${length}`,
          expected: minLength,
          actual: length,
        });
      }
      if (maxLength !== undefined && length > maxLength) {
        (violations ??= []).push({
          constraint: 'max_length',
          message: `must be at most ${maxLength} characters, got ${length}`,
          expected: maxLength,
          actual: length,
        });
      }
      if (matcher !== undefined && !matcher.test(value)) {
        (violations ??= []).push({
          constraint: 'pattern',
          message: `must match pattern ${patternText}`,
          expected: patternText,
          actual: value,
        });
      }
      if (enumSet !== undefined && !enumSet.has(value)) {
        (violations ??= []).push({
          constraint: 'enum',
          message: `must be one of: ${enumText}`,
          expected: enumValues,
          actual: value,
        });
      }
      return violations ? { ok: false, violations } : { ok: true, value };
    };
  },
  toWire: (value: string) => stringToWire(value),
};

// ---------------------------------------------------------------------------------------------
// boolean

export const booleanType: TypeDefinition<boolean> = {
  name: 'boolean',
  description: 'true or false',
  constraints: {},
  compile:
    () =>
    (value: unknown): ValidationResult<boolean> => {
      if (value === true || value === 'true') return { ok: true, value: true };
      if (value === false || value === 'false') return { ok: true, value: false };
      return cannotConvert(value, 'boolean') as ValidationResult<boolean>;
    },
  toWire(value: boolean): Value {
    if (typeof value !== 'boolean') throw new TypeError(`boolean toWire expects a boolean, got ${formatValue(value)}`);
    return boolToWire(value);
  },
};

// ---------------------------------------------------------------------------------------------
// choice, module

function oneOfValidator(
  typeName: string,
  constraint: string,
  allowed: readonly string[] | undefined,
  { allowEmpty }: { readonly allowEmpty: boolean },
): (value: unknown) => ValidationResult<string> {
  const set = allowed ? new Set(allowed) : undefined;
  const text = allowed ? formatList(allowed) : '';
  return (value) => {
    if (typeof value !== 'string') return cannotConvert(value, typeName) as ValidationResult<string>;
    if (codePointLength(value) < 0) return cannotConvert(value, typeName, LONE_SURROGATE) as ValidationResult<string>;
    if (!allowEmpty && value.length === 0) {
      return one({
        constraint: 'type',
        message: `${typeName} name must not be empty`,
        actual: value,
      }) as ValidationResult<string>;
    }
    if (set !== undefined && !set.has(value)) {
      return one({
        constraint,
        message: `must be one of: ${text}`,
        expected: allowed,
        actual: value,
      }) as ValidationResult<string>;
    }
    return { ok: true, value };
  };
}

export const choiceType: TypeDefinition<string> = {
  name: 'choice',
  description: 'one string out of a fixed list',
  constraints: {
    choices: stringList('a non-empty array of distinct strings', ['fast', 'accurate'], { required: true }),
  },
  compile: (c) => oneOfValidator('choice', 'choices', c['choices'] as string[], { allowEmpty: true }),
  toWire: (value: string) => stringToWire(value),
};

export const moduleType: TypeDefinition<string> = {
  name: 'module',
  description: 'the name of a module (e.g. a DSPy module class), optionally from an allowed list',
  constraints: {
    allowed_modules: stringList('a non-empty array of distinct module names', ['Predict', 'ChainOfThought']),
  },
  compile: (c) =>
    oneOfValidator('module', 'allowed_modules', c['allowed_modules'] as string[] | undefined, {
      allowEmpty: false,
    }),
  toWire: (value: string) => stringToWire(value),
};
