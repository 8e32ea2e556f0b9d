import { toWire } from './codec.js';
import { formatValue } from './format.js';
import { COMPILE_CACHE_MAX, compileCacheStats, compileType, registerType } from './registry.js';
import type { Constraints } from './types.js';

function violations(type: string, constraints?: unknown): Array<[string, string]> {
  const r = compileType(type, constraints as Constraints);
  return r.ok ? [] : r.violations.map((v) => [v.constraint, v.message]);
}

describe('compileType constraint checks', () => {
  it.each([
    ['float', { min: 2, max: 1 }, 'min', 'min (2) must not be greater than max (1)'],
    ['integer', { min: 5, max: '4' }, 'min', 'min (5) must not be greater than max (4)'],
    ['float', { maxx: 2 }, 'maxx', "unknown constraint 'maxx' for type float; allowed: min, max"],
    ['boolean', { min: 1 }, 'min', "unknown constraint 'min' for type boolean; allowed: none"],
    [
      'string',
      { min: 1 },
      'min',
      "unknown constraint 'min' for type string; allowed: min_length, max_length, pattern, enum",
    ],
    [
      'flaot',
      {},
      'type',
      "unknown type 'flaot'; known types: float, integer, string, boolean, choice, module, embedding, tensor, json",
    ],
    [
      'float',
      { min: 'abc' },
      'min',
      "constraint 'min' for type float must be a finite number (e.g. min: 0), got 'abc'",
    ],
    [
      'integer',
      { max: 1.5 },
      'max',
      "constraint 'max' for type integer must be an integer (a decimal string for bounds beyond 2^53) (e.g. max: 10), got 1.5",
    ],
    [
      'integer',
      { max: '99999999999999999999' },
      'max',
      "max '99999999999999999999' is outside the int64 range [-9223372036854775808, 9223372036854775807]",
    ],
    [
      'string',
      { min_length: 5, max_length: 3 },
      'min_length',
      'min_length (5) must not be greater than max_length (3)',
    ],
    [
      'string',
      { min_length: -1 },
      'min_length',
      "constraint 'min_length' for type string must be a non-negative integer (counted in Unicode code points) (e.g. min_length: 3), got -1",
    ],
    [
      'string',
      { pattern: '[' },
      'pattern',
      "pattern '[' is not a valid regular expression (/[/u: Unterminated character class)",
    ],
    [
      'string',
      { pattern: '(?=a)b' },
      'pattern',
      "pattern '(?=a)b' uses a lookahead, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!",
    ],
    [
      'string',
      { pattern: '(?<!a)b' },
      'pattern',
      "pattern '(?<!a)b' uses a lookbehind, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!",
    ],
    [
      'string',
      { pattern: '(a)\\1' },
      'pattern',
      "pattern '(a)\\1' uses a backreference (\\1), which the linear-time RE2 engine cannot run; rewrite it without backreferences",
    ],
    [
      'string',
      { pattern: '(?<x>a)\\k<x>' },
      'pattern',
      "pattern '(?<x>a)\\k<x>' uses a backreference (\\k<x>), which the linear-time RE2 engine cannot run; rewrite it without backreferences",
    ],
    [
      'string',
      { enum: [] },
      'enum',
      'constraint \'enum\' for type string must be a non-empty array of distinct strings (e.g. enum: ["a","b"]), got []',
    ],
    [
      'choice',
      {},
      'choices',
      'constraint \'choices\' is required for type choice: a non-empty array of distinct strings (e.g. choices: ["fast","accurate"])',
    ],
    [
      'choice',
      { choices: [] },
      'choices',
      'constraint \'choices\' for type choice must be a non-empty array of distinct strings (e.g. choices: ["fast","accurate"]), got []',
    ],
    [
      'embedding',
      { dimensions: -1 },
      'dimensions',
      "constraint 'dimensions' for type embedding must be a non-negative integer (the exact vector length) (e.g. dimensions: 768), got -1",
    ],
    [
      'tensor',
      { shape: [2, -2] },
      'shape',
      "constraint 'shape' for type tensor must be an array of axis sizes, each a non-negative integer or -1 for any size (e.g. shape: [-1,3]), got [2, -2]",
    ],
    [
      'tensor',
      { dtype: 'float16' },
      'dtype',
      "constraint 'dtype' for type tensor must be one of float32, float64, int32, int64, uint8, bool (or a non-empty array of them) (e.g. dtype: \"float32\"), got 'float16'",
    ],
    [
      'json',
      { schema: { $ref: 'https://example.com/s.json' } },
      'schema',
      "schema uses a remote $ref 'https://example.com/s.json' at /; only local references (#/...) are supported: inline the referenced schema under $defs",
    ],
    [
      'json',
      { schema: { type: 'strng' } },
      'schema',
      'schema is not a valid JSON Schema: schema is invalid: data/type must be equal to one of the allowed values, data/type must be array, data/type must match a schema in anyOf',
    ],
    [
      'json',
      { schema: { $schema: 'http://json-schema.org/draft-04/schema#' } },
      'schema',
      "schema declares an unsupported $schema 'http://json-schema.org/draft-04/schema#'; use draft-07, 2019-09 or 2020-12, or omit $schema (draft-07)",
    ],
    [
      'json',
      { schema: { type: 'string', pattern: '(?=x)' } },
      'schema',
      "schema has pattern '(?=x)' at /pattern that uses a lookahead, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!",
    ],
    [
      'json',
      { schema: [] },
      'schema',
      'constraint \'schema\' for type json must be a JSON Schema (draft-07 by default; 2019-09 and 2020-12 via $schema) (e.g. schema: {"type":"object","required":["name"]}), got []',
    ],
  ])('should reject %s %j', (type, constraints, constraint, message) => {
    expect(violations(type, constraints)).toContainEqual([constraint, message]);
  });

  it('should reject a schema that is too deep or too large', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'array', items: deep };
    expect(violations('json', { schema: deep })).toEqual([
      ['schema', 'schema is nested deeper than 32 levels; flatten it with $defs and $ref'],
    ]);
    const large = { enum: Array.from({ length: 20_000 }, (_, i) => `value-${i}`) };
    expect(violations('json', { schema: large })[0]?.[1]).toMatch(
      /^schema is too large \(\d+ characters of JSON; the limit is 100000\); split it or simplify it$/,
    );
  });

  it('should reject constraints that are not a JSON object', () => {
    expect(violations('float', [1])).toEqual([
      ['constraints', 'constraints must be a JSON object like { "min": 0 }, got [1]'],
    ]);
    expect(violations('float', { min: 1n })).toEqual([
      ['min', "constraint 'min' must be a JSON value: a bigint is not a JSON value"],
    ]);
  });

  it('should list every problem at once', () => {
    expect(violations('float', { maxx: 1, minn: 2 }).map(([c]) => c)).toEqual(['maxx', 'minn']);
  });

  it('should treat null constraints as absent', () => {
    const a = compileType('float', { min: null, max: 1 });
    const b = compileType('float', { max: 1 });
    expect(a.ok && b.ok && a.compiled).toBe(b.ok && b.compiled);
  });

  it('should accept local $refs and $defs', () => {
    const r = compileType('json', {
      schema: { $defs: { n: { type: 'integer' } }, type: 'array', items: { $ref: '#/$defs/n' } },
    });
    expect(r.ok && r.compiled.validate([1, 2]).ok).toBe(true);
    expect(r.ok && r.compiled.validate([1.5]).ok).toBe(false);
  });
});

describe('compileType cache', () => {
  it('should compile identical constraints once, whatever the key order', () => {
    const before = compileCacheStats().compiles;
    const first = compileType('integer', { min: 0, max: 100 });
    for (let i = 0; i < 10_000; i++) {
      const r =
        i % 2 === 0 ? compileType('integer', { min: 0, max: 100 }) : compileType('integer', { max: 100, min: 0 });
      if (!r.ok || !first.ok || r.compiled !== first.compiled) throw new Error('not the cached compiled type');
    }
    expect(compileCacheStats().compiles - before).toBe(1);
    expect(first.ok && first.compiled.key).toBe('integer:{"max":100,"min":0}');
  });

  it('should stay bounded when compiling many distinct constraint sets', () => {
    for (let i = 0; i < COMPILE_CACHE_MAX * 3; i++) compileType('float', { max: i });
    expect(compileCacheStats().size).toBeLessThanOrEqual(COMPILE_CACHE_MAX);
  });

  it('should freeze and detach the compiled constraints', () => {
    const constraints = { enum: ['a', 'b'] };
    const r = compileType('string', constraints);
    constraints.enum.push('c');
    expect(r.ok && r.compiled.constraints).toEqual({ enum: ['a', 'b'] });
    expect(r.ok && Object.isFrozen(r.compiled.constraints)).toBe(true);
    expect(r.ok && r.compiled.validate('c').ok).toBe(false);
  });
});

describe('registerType', () => {
  beforeAll(() =>
    registerType<number>({
      name: 'percent',
      description: 'a number from 0 to 100',
      constraints: {
        step: { schema: { type: 'number', exclusiveMinimum: 0 }, expects: 'a positive number', example: 5 },
      },
      check: (c) =>
        c['step'] !== undefined && 100 % (c['step'] as number) !== 0
          ? [{ constraint: 'step', message: 'step must divide 100' }]
          : [],
      compile: (c) => (v) => {
        const step = c['step'] as number | undefined;
        if (typeof v !== 'number' || v < 0 || v > 100) {
          return {
            ok: false,
            violations: [{ constraint: 'type', message: `Cannot convert ${formatValue(v)} to percent` }],
          };
        }
        if (step !== undefined && v % step !== 0) {
          return { ok: false, violations: [{ constraint: 'step', message: `must be a multiple of ${step}` }] };
        }
        return { ok: true, value: v };
      },
      toWire: (v) => toWire(v),
    }),
  );

  it('should compile and validate a custom type like a built-in', () => {
    const r = compileType('percent', { step: 5 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.compiled.validate(15)).toEqual({ ok: true, value: 15 });
    expect(r.compiled.validate(101)).toEqual({
      ok: false,
      violations: [{ constraint: 'type', message: 'Cannot convert 101 to percent' }],
    });
    expect(r.compiled.validate(7)).toEqual({
      ok: false,
      violations: [{ constraint: 'step', message: 'must be a multiple of 5' }],
    });
    expect(r.compiled.toWire(15).kind).toEqual({ case: 'intValue', value: 15n });
  });

  it('should apply the custom constraint schema and checks', () => {
    expect(violations('percent', { step: 0 })).toEqual([
      ['step', "constraint 'step' for type percent must be a positive number (e.g. step: 5), got 0"],
    ]);
    expect(violations('percent', { step: 7 })).toEqual([['step', 'step must divide 100']]);
    expect(violations('percent', { max: 7 })).toEqual([
      ['max', "unknown constraint 'max' for type percent; allowed: step"],
    ]);
  });

  it('should turn a throwing custom validator into a violation', () => {
    registerType({
      name: 'throws',
      constraints: {},
      compile: () => () => {
        throw new Error('boom');
      },
      toWire: (v) => toWire(v),
    });
    const r = compileType('throws');
    expect(r.ok && r.compiled.validate(1)).toEqual({
      ok: false,
      violations: [{ constraint: 'type', message: 'Cannot convert 1 to throws: boom' }],
    });
  });

  it.each([
    [
      { name: 'float', constraints: {}, compile: () => () => ({ ok: true, value: 1 }), toWire },
      "type 'float' is already registered",
    ],
    [
      { name: 'Bad Name', constraints: {}, compile: () => () => ({ ok: true, value: 1 }), toWire },
      'def.name must match',
    ],
    [
      { name: 'nocodec', constraints: {}, compile: () => () => ({ ok: true, value: 1 }) },
      'needs compile(constraints) and toWire(value)',
    ],
    [
      { name: 'badspec', constraints: { x: {} }, compile: () => () => ({ ok: true, value: 1 }), toWire },
      "constraint 'x' of type 'badspec' needs { schema, expects }",
    ],
  ])('should refuse a malformed definition %#', (def, message) => {
    expect(() => registerType(def as never)).toThrow(message);
  });
});
