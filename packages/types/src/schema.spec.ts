import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileSchema } from './compile-schema.js';
import { compileCacheStats, COMPILE_CACHE_MAX, compileType } from './registry.js';
import { COMPILES_PER_INSTANCE, schemaEngineStats } from './schema.js';

describe('compileSchema (tool argument schemas)', () => {
  const tool = compileSchema({
    type: 'object',
    required: ['query'],
    properties: {
      query: { type: 'string', minLength: 1 },
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } },
    },
    additionalProperties: false,
  });

  it('should accept valid arguments', () => {
    expect(tool.ok && tool.validate({ query: 'x', limit: 10, tags: ['a'] })).toEqual({
      ok: true,
      value: { query: 'x', limit: 10, tags: ['a'] },
    });
  });

  it('should report every violation with the keyword and a JSON pointer', () => {
    const r = tool.ok ? tool.validate({ limit: 0, tags: ['ok', 'NO'], extra: 1 }) : undefined;
    expect(r).toEqual({
      ok: false,
      violations: [
        { constraint: 'required', message: "must have required property 'query'", path: '' },
        { constraint: 'additionalProperties', message: "must NOT have additional property 'extra'", path: '' },
        { constraint: 'minimum', message: '/limit must be >= 1', path: '/limit', expected: 1 },
        {
          constraint: 'pattern',
          message: '/tags/1 must match pattern ^[a-z]+$',
          path: '/tags/1',
          expected: '^[a-z]+$',
        },
      ],
    });
  });

  it('should reject non-JSON arguments instead of throwing', () => {
    const cyclic: Record<string, unknown> = { query: 'x' };
    cyclic['self'] = cyclic;
    expect(tool.ok && tool.validate(cyclic)).toEqual({
      ok: false,
      violations: [{ constraint: 'type', message: '/self: a cyclic reference is not a JSON value', path: '/self' }],
    });
  });

  it('should treat format as an annotation', () => {
    const r = compileSchema({ type: 'string', format: 'email' });
    expect(r.ok && r.validate('not an email').ok).toBe(true);
  });

  it('should accept boolean schemas', () => {
    const no = compileSchema(false);
    expect(no.ok && no.validate(1).ok).toBe(false);
  });

  it.each([
    [
      { $ref: 'other.json#/x' },
      "schema uses a remote $ref 'other.json#/x' at /; only local references (#/...) are supported: inline the referenced schema under $defs",
    ],
    [
      { properties: { a: { $ref: 'http://x/y' } } },
      "schema uses a remote $ref 'http://x/y' at /properties/a; only local references (#/...) are supported: inline the referenced schema under $defs",
    ],
    [
      { $ref: '#/definitions/missing' },
      "schema is not a valid JSON Schema: can't resolve reference #/definitions/missing from id #",
    ],
    [
      { patternProperties: { '(a)\\1': {} } },
      "schema has pattern '(a)\\1' at /patternProperties that uses a backreference (\\1), which the linear-time RE2 engine cannot run; rewrite it without backreferences",
    ],
    [
      { items: { pattern: '(?<=a)' } },
      "schema has pattern '(?<=a)' at /items/pattern that uses a lookbehind, which the linear-time RE2 engine cannot run; rewrite it without (?=, (?!, (?<= or (?<!",
    ],
    ['nope', 'schema must be a JSON Schema (an object or a boolean), got a string'],
  ])('should reject %j', (schema, message) => {
    const r = compileSchema(schema);
    expect(r.ok ? [] : r.violations.map((v) => v.message)).toContain(message);
  });

  it('should allow the same $id in many schemas', () => {
    for (let i = 0; i < 3; i++) {
      const r = compileSchema({ $id: 'https://example.com/s', type: 'integer', maximum: i });
      expect(r.ok).toBe(true);
    }
  });
});

describe('memory bounds', () => {
  it('should compile 10,000 distinct schemas in bounded memory', () => {
    const collect = forceGc();
    const before = schemaEngineStats().instancesCreated;
    let i = 0;
    const compileMore = (n: number): void => {
      for (const end = i + n; i < end; i++) {
        const r = compileType('json', {
          schema: { type: 'object', properties: { [`k${i}`]: { type: 'string', pattern: `^v${i}$` } } },
        });
        if (!r.ok) throw new Error(JSON.stringify(r.violations));
      }
    };
    compileMore(2_000); // fills the compile cache (COMPILE_CACHE_MAX entries)
    const heapAfterWarmUp = collect();
    compileMore(8_000);
    const heapAfterAll = collect();
    const after = schemaEngineStats();
    // Every ajv instance is retired after COMPILES_PER_INSTANCE compilations, so its scope (which
    // keeps per-schema code and patterns) is freed once the LRU has dropped its validators.
    expect(after.instancesCreated - before).toBeGreaterThanOrEqual(Math.floor(10_000 / COMPILES_PER_INSTANCE));
    expect(after.liveCachedSchemas).toBeLessThanOrEqual(3); // at most the meta-schemas of live instances
    expect(compileCacheStats().size).toBeLessThanOrEqual(COMPILE_CACHE_MAX);
    // Each retained validator costs ~10 kB, so 8,000 more kept alive would add ~80 MB.
    expect(heapAfterAll - heapAfterWarmUp).toBeLessThan(25 * 1024 * 1024);
    // 10,000 ajv compilations take ~12 s on an idle 2-core machine: well past the 20 s default when loaded.
  }, 120_000);
});

/** A function that runs a full GC and returns heapUsed (V8's gc exposed at run time). */
function forceGc(): () => number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
}
