import { compileType } from './registry.js';
import type { CompiledType, Constraints, ValidationResult } from './types.js';

function compiled(type: string, constraints?: Constraints): CompiledType {
  const r = compileType(type, constraints);
  if (!r.ok) throw new Error(`compile failed: ${JSON.stringify(r.violations)}`);
  return r.compiled;
}

function messages(r: ValidationResult): Array<[string, string]> {
  return r.ok ? [] : r.violations.map((v) => [v.constraint, v.message]);
}

describe('embedding', () => {
  const e768 = compiled('embedding', { dimensions: 768 });

  it('should turn number[] into a Float64Array losslessly', () => {
    const r = compiled('embedding').validate([0.1, -0, NaN, 1e300]);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value).toBeInstanceOf(Float64Array);
      expect(Array.from(r.value as Float64Array)).toEqual([0.1, -0, NaN, 1e300]);
    }
  });

  it.each([
    ['Float32Array', new Float32Array(768)],
    ['Float64Array', new Float64Array(768)],
    ['number[]', new Array<number>(768).fill(0.5)],
    ['a 1-D float32 tensor', { dtype: 'float32', shape: [768], data: new Float32Array(768) }],
  ])('should accept %s with the right dimensions', (_label, input) => {
    const r = e768.validate(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect((r.value as Float32Array).length).toBe(768);
  });

  it('should keep a Float32Array as is', () => {
    const data = new Float32Array([1, 2]);
    expect(compiled('embedding').validate(data)).toEqual({ ok: true, value: data });
  });

  it.each([
    ['too few dimensions', new Float32Array(3), 'dimensions', 'must have exactly 768 dimensions'],
    ['a string element', [1, 'x'], 'type', "Cannot convert 'x' to embedding: element 1 is not a number"],
    ['a string', 'abc', 'type', "Cannot convert 'abc' to embedding"],
    ['an Int32Array', new Int32Array(3), 'type', 'Cannot convert Int32Array(3) to embedding'],
    [
      'a 2-D tensor',
      { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) },
      'type',
      "Cannot convert {dtype: 'float32', shape: [1, 3], data: Float32Array(3)} to embedding: only a 1-D float32/float64 tensor is an embedding",
    ],
  ])('should reject %s', (_label, input, constraint, message) => {
    const type = constraint === 'dimensions' ? e768 : compiled('embedding');
    expect(messages(type.validate(input))).toContainEqual([constraint, message]);
  });

  it('should report expected and actual dimensions', () => {
    const r = e768.validate([1, 2, 3]);
    expect(r).toEqual({
      ok: false,
      violations: [{ constraint: 'dimensions', message: 'must have exactly 768 dimensions', expected: 768, actual: 3 }],
    });
  });
});

describe('tensor', () => {
  const any = compiled('tensor');

  it('should flatten nested arrays row-major and infer the shape', () => {
    const r = any.validate({
      dtype: 'int32',
      data: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(r).toEqual({ ok: true, value: { dtype: 'int32', shape: [2, 3], data: new Int32Array([1, 2, 3, 4, 5, 6]) } });
  });

  it('should reshape a flat array by an explicit shape', () => {
    const r = any.validate({ dtype: 'float64', shape: [2, 2], data: [1, 2, 3, 4] });
    expect(r).toEqual({ ok: true, value: { dtype: 'float64', shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) } });
  });

  it('should keep a typed array of the right dtype without copying', () => {
    const data = new Float32Array(6);
    const r = any.validate({ dtype: 'float32', shape: [2, 3], data });
    expect(r.ok && r.value).toEqual({ dtype: 'float32', shape: [2, 3], data });
    if (r.ok) expect((r.value as { data: unknown }).data).toBe(data);
  });

  it('should infer dtype and shape from a bare typed array', () => {
    expect(any.validate(new BigInt64Array([1n, -1n]))).toEqual({
      ok: true,
      value: { dtype: 'int64', shape: [2], data: new BigInt64Array([1n, -1n]) },
    });
  });

  it.each([
    ['int64 from numbers and bigints', { dtype: 'int64', data: [1, 2n ** 62n] }, new BigInt64Array([1n, 2n ** 62n])],
    ['bool from booleans', { dtype: 'bool', data: [true, false, 1, 0] }, new Uint8Array([1, 0, 1, 0])],
    ['bool inferred from booleans', { data: [[true], [false]] }, new Uint8Array([1, 0])],
    ['uint8 from numbers', { dtype: 'uint8', data: [0, 255] }, new Uint8Array([0, 255])],
    ['float32 rounding to nearest', { dtype: 'float32', data: [0.1] }, new Float32Array([0.1])],
  ])('should convert %s', (_label, input, data) => {
    const r = any.validate(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect((r.value as { data: unknown }).data).toEqual(data);
  });

  it('should use the constraint dtype when the input does not name one', () => {
    const r = compiled('tensor', { dtype: 'float32' }).validate({ data: [1, 2] });
    expect(r).toEqual({ ok: true, value: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } });
  });

  it('should accept any size on a -1 axis', () => {
    const t = compiled('tensor', { shape: [-1, 3] });
    expect(t.validate({ dtype: 'float32', data: [[1, 2, 3]] }).ok).toBe(true);
    expect(t.validate({ dtype: 'float32', shape: [5, 3], data: new Float32Array(15) }).ok).toBe(true);
  });

  it.each([
    [
      'the wrong shape',
      { shape: [2, 3] },
      {
        dtype: 'float32',
        data: [
          [1, 2],
          [3, 4],
        ],
      },
      'shape',
      'shape must be [2, 3]',
    ],
    ['the wrong rank', { shape: [-1, 3] }, { dtype: 'float32', data: [1, 2, 3] }, 'shape', 'shape must be [-1, 3]'],
    [
      'the wrong dtype',
      { dtype: 'float32' },
      { dtype: 'float64', data: [1] },
      'dtype',
      'dtype must be float32, got float64',
    ],
    [
      'a dtype outside a list',
      { dtype: ['float32', 'float64'] },
      { dtype: 'int32', data: [1] },
      'dtype',
      'dtype must be one of: float32, float64, got int32',
    ],
    [
      'data not matching the shape',
      {},
      { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) },
      'type',
      'tensor data has 5 elements but shape [2, 3] needs 6',
    ],
    [
      'ragged nested arrays',
      {},
      { data: [[1, 2], [3]] },
      'type',
      'tensor data[1] should be an array of length 2 (nested arrays must be rectangular)',
    ],
    ['a fraction in int32', {}, { dtype: 'int32', data: [1, 2.5] }, 'type', 'Cannot convert 2.5 to int32 at data[1]'],
    [
      'an int32 overflow',
      {},
      { dtype: 'int32', data: [2 ** 31] },
      'type',
      'Cannot convert 2147483648 to int32 at data[0]',
    ],
    ['a 2 in bool', {}, { dtype: 'bool', data: new Uint8Array([0, 2]) }, 'type', 'Cannot convert 2 to bool at data[1]'],
    ['a 256 in uint8', {}, { dtype: 'uint8', data: [256] }, 'type', 'Cannot convert 256 to uint8 at data[0]'],
    [
      'an unknown dtype',
      {},
      { dtype: 'float16', data: [1] },
      'type',
      "tensor dtype 'float16' is not one of: float32, float64, int32, int64, uint8, bool",
    ],
    [
      'a bad shape',
      {},
      { shape: [-1], data: [1] },
      'type',
      'tensor shape must be an array of non-negative integers, got [-1]',
    ],
    ['a string', {}, 'abc', 'type', "Cannot convert 'abc' to tensor: expected { dtype, shape, data } or a typed array"],
  ])('should reject %s', (_label, constraints, input, constraint, message) => {
    expect(messages(compiled('tensor', constraints).validate(input))).toContainEqual([constraint, message]);
  });
});

describe('json', () => {
  const any = compiled('json');

  it.each([
    ['null', null],
    ['a number', 1.5],
    ['a string', 'x'],
    ['a boolean', false],
    ['an array', [1, 'a', null]],
    ['an object', { a: { b: [1, 2, { c: true }] } }],
    ['an object with a null prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('should accept %s unchanged', (_label, value) => {
    expect(any.validate(value)).toEqual({ ok: true, value });
  });

  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];

  it.each([
    ['undefined', undefined, 'undefined is not a JSON value'],
    ['a nested undefined', { a: undefined }, '/a: undefined is not a JSON value'],
    ['a function', { f: () => 1 }, '/f: a function is not a JSON value'],
    ['NaN', [NaN], '/0: NaN is not a JSON value'],
    ['Infinity', Infinity, 'Infinity is not a JSON value'],
    ['a bigint', 1n, 'bigint 1 is not a JSON value'],
    ['a cycle', cyclic, '/self: a cyclic reference is not a JSON value'],
    ['a Date', new Date(0), '[object Date] is not a JSON value'],
    ['a Map', new Map(), '[object Map] is not a JSON value'],
    [
      'a nesting deeper than 32',
      deep,
      '/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: JSON nesting deeper than 32 levels is not supported',
    ],
  ])('should reject %s', (_label, value, message) => {
    expect(messages(any.validate(value))).toEqual([['type', message]]);
  });

  it('should check a JSON Schema with paths', () => {
    const t = compiled('json', {
      schema: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', pattern: '^[A-Z]' }, age: { type: 'integer', minimum: 0 } },
        additionalProperties: false,
      },
    });
    expect(t.validate({ name: 'Ada', age: 36 }).ok).toBe(true);
    const r = t.validate({ name: 'ada', age: -1, x: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.violations.map((v) => [v.constraint, v.path, v.message])).toEqual([
        ['schema', '', "must NOT have additional property 'x'"],
        ['schema', '/name', '/name must match pattern ^[A-Z]'],
        ['schema', '/age', '/age must be >= 0'],
      ]);
    }
  });

  it('should run schema patterns on RE2 (no catastrophic backtracking)', () => {
    const t = compiled('json', { schema: { type: 'string', pattern: '(a+)+$' } });
    expect(t.validate(`${'a'.repeat(100_000)}!`).ok).toBe(false);
  });

  it('should support 2020-12 schemas through $schema', () => {
    const t = compiled('json', {
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'array',
        prefixItems: [{ type: 'string' }],
      },
    });
    expect(t.validate(['a']).ok).toBe(true);
    expect(t.validate([1]).ok).toBe(false);
  });
});
