import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ValueSchema } from '@unified-bridge/proto';
import fc from 'fast-check';
import { encodedSize, fromWire } from './codec.js';
import { compileSchema } from './compile-schema.js';
import { compileType } from './registry.js';
import { typedArrayTag } from './tensor-data.js';
import type { CompiledType, Constraints, Dtype } from './types.js';

function compiled(type: string, constraints?: Constraints): CompiledType {
  const r = compileType(type, constraints);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.compiled;
}

/** Exact equality: Object.is for numbers (NaN, -0), bytes for typed arrays, structure otherwise. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || typedArrayTag(a) !== typedArrayTag(b)) return false;
    const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return x.equals(y);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

/** validate -> toWire -> protobuf bytes -> fromWire -> validate must give back the same value. */
function roundTrips(type: CompiledType, input: unknown): void {
  const v = type.validate(input);
  if (!v.ok) throw new Error(`rejected ${String(input)}: ${JSON.stringify(v.violations)}`);
  const bytes = toBinary(ValueSchema, type.toWire(v.value));
  const size = encodedSize(v.value);
  if (Math.abs(size - bytes.length) > Math.max(8, bytes.length * 0.1)) {
    throw new Error(`encodedSize ${size} far from ${bytes.length}`);
  }
  const decoded = fromWire(fromBinary(ValueSchema, bytes));
  if (!decoded.ok) throw new Error(JSON.stringify(decoded.violations));
  const again = type.validate(decoded.value);
  if (!again.ok) throw new Error(JSON.stringify(again.violations));
  if (!same(again.value, v.value)) throw new Error('value changed on the way');
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

const tensorOf = (dtype: Dtype): fc.Arbitrary<unknown> =>
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const elements: Record<Dtype, fc.Arbitrary<unknown[]>> = {
      float32: fc.array(fc.float(), { minLength: n, maxLength: n }),
      float64: fc.array(fc.double(), { minLength: n, maxLength: n }),
      int32: fc.array(fc.integer(), { minLength: n, maxLength: n }),
      int64: fc.array(int64, { minLength: n, maxLength: n }),
      uint8: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
      bool: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    };
    return elements[dtype].map((data) => ({ dtype, shape, data }));
  });

describe('codec round trip (property)', () => {
  const cases: Array<[string, CompiledType, fc.Arbitrary<unknown>]> = [
    ['float', compiled('float'), fc.double()],
    ['integer (number)', compiled('integer'), fc.maxSafeInteger()],
    ['integer (bigint)', compiled('integer'), int64],
    ['string', compiled('string'), fc.string({ unit: 'binary' })],
    ['string (graphemes)', compiled('string'), fc.string({ unit: 'grapheme', maxLength: 50 })],
    ['boolean', compiled('boolean'), fc.boolean()],
    ['choice', compiled('choice', { choices: ['a', 'b', '😀'] }), fc.constantFrom('a', 'b', '😀')],
    ['module', compiled('module'), fc.string({ unit: 'binary', minLength: 1 })],
    ['embedding (Float32Array)', compiled('embedding'), fc.float32Array()],
    ['embedding (Float64Array)', compiled('embedding'), fc.float64Array()],
    ['embedding (number[])', compiled('embedding'), fc.array(fc.double())],
    ['json', compiled('json'), fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v).includes('"__proto__"'))],
    ...(['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as Dtype[]).map(
      (d): [string, CompiledType, fc.Arbitrary<unknown>] => [`tensor ${d}`, compiled('tensor'), tensorOf(d)],
    ),
  ];

  it.each(cases)('should round-trip every generated %s exactly', (_label, type, arb) => {
    fc.assert(
      fc.property(arb, (value) => roundTrips(type, value)),
      { numRuns: 200 },
    );
  });
});

describe('validate never throws (property)', () => {
  const hostile = fc.constantFrom<unknown>(
    new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    ),
    Object.defineProperty({}, 'data', {
      get: () => {
        throw new Error('getter');
      },
      enumerable: true,
    }),
    Object.defineProperty({ dtype: 'float32' }, 'shape', {
      get: () => {
        throw new Error('getter');
      },
      enumerable: true,
    }),
    { dtype: 'float32', shape: [1e10, 1e10], data: [] },
    { dtype: 'int64', data: [[[[[[[[]]]]]]]] },
    Symbol('s'),
    () => 1,
    new Array(5),
  );
  const anything = fc.oneof(
    fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    }),
    hostile,
  );
  const types: Array<[string, Constraints | undefined]> = [
    ['float', { min: 0, max: 1 }],
    ['integer', { min: -5, max: '9223372036854775807' }],
    ['string', { min_length: 1, max_length: 5, pattern: '^[a-z]+$', enum: ['abc'] }],
    ['boolean', undefined],
    ['choice', { choices: ['a'] }],
    ['module', { allowed_modules: ['Predict'] }],
    ['embedding', { dimensions: 3 }],
    ['tensor', { shape: [-1, 2], dtype: ['float32', 'int64'] }],
    ['json', { schema: { type: 'object', properties: { a: { type: 'string', pattern: 'x' } } } }],
  ];

  it.each(types)('should return a result for any input to %s', (type, constraints) => {
    const t = compiled(type, constraints);
    fc.assert(
      fc.property(anything, (value) => {
        const r = t.validate(value);
        if (typeof r !== 'object' || (r.ok !== true && r.ok !== false)) throw new Error('no result');
        if (!r.ok && (r.violations.length === 0 || r.violations.some((v) => typeof v.message !== 'string'))) {
          throw new Error('failure without a message');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('should never throw from compileType, compileSchema or fromWire on any input', () => {
    fc.assert(
      fc.property(fc.string(), anything, anything, (name, constraints, wire) => {
        compileType(name, constraints as Constraints);
        compileType('float', constraints as Constraints);
        compileSchema(constraints);
        const r = fromWire(wire as never);
        if (typeof r.ok !== 'boolean') throw new Error('no result');
      }),
      { numRuns: 300 },
    );
  });
});
