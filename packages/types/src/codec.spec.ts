import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Dtype as WireDtype, TensorSchema, ValueSchema, type Value } from '@unified-bridge/proto';
import { encodedSize, fromWire, inferType, toWire } from './codec.js';
import { compileType } from './registry.js';
import { fromLittleEndianBytes, toLittleEndianBytes } from './tensor-data.js';
import type { CompiledType, Constraints, TensorValue } from './types.js';

function compiled(type: string, constraints?: Constraints): CompiledType {
  const r = compileType(type, constraints);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.compiled;
}

/** Encodes with the type, sends through protobuf binary, decodes and re-validates with the type. */
function roundTrip(type: CompiledType, input: unknown): unknown {
  const v = type.validate(input);
  if (!v.ok) throw new Error(JSON.stringify(v.violations));
  const bytes = toBinary(ValueSchema, type.toWire(v.value));
  const decoded = fromWire(fromBinary(ValueSchema, bytes));
  if (!decoded.ok) throw new Error(JSON.stringify(decoded.violations));
  const again = type.validate(decoded.value);
  if (!again.ok) throw new Error(JSON.stringify(again.violations));
  return again.value;
}

describe('codec round trips', () => {
  it.each([NaN, Infinity, -Infinity, -0, 0, 1.5, Number.MAX_VALUE, Number.MIN_VALUE, 3])(
    'should keep the float %p exactly',
    (x) => {
      const out = roundTrip(compiled('float'), x);
      expect(Object.is(out, x)).toBe(true);
    },
  );

  it('should send a float holding 3 as a double', () => {
    expect(compiled('float').toWire(3).kind).toEqual({ case: 'doubleValue', value: 3 });
  });

  it.each([
    ['int64 max', 9223372036854775807n],
    ['int64 min', -9223372036854775808n],
    ['2^53 + 1', 9007199254740993n],
    ['zero', 0],
    ['max safe', Number.MAX_SAFE_INTEGER],
  ])('should keep the integer %s exactly', (_label, x) => {
    expect(roundTrip(compiled('integer'), x)).toBe(x);
  });

  it.each([
    ['empty', ''],
    ['non-BMP', '😀 𝄞 \u{10FFFF}'],
    ['NUL and controls', '\u0000\u0001\n'],
  ])('should keep the %s string exactly', (_label, s) => {
    expect(roundTrip(compiled('string'), s)).toBe(s);
  });

  it('should keep booleans, choices and modules', () => {
    expect(roundTrip(compiled('boolean'), false)).toBe(false);
    expect(roundTrip(compiled('choice', { choices: ['a', 'b'] }), 'b')).toBe('b');
    expect(roundTrip(compiled('module'), 'ChainOfThought')).toBe('ChainOfThought');
  });

  it('should send an embedding as a binary tensor, not a number list', () => {
    const type = compiled('embedding', { dimensions: 3 });
    const wire = type.toWire(new Float32Array([1, -0, NaN]));
    expect(wire.kind.case).toBe('tensorValue');
    if (wire.kind.case !== 'tensorValue') return;
    expect(wire.kind.value.dtype).toBe(WireDtype.FLOAT32);
    expect(wire.kind.value.shape).toEqual([3]);
    expect(wire.kind.value.data.length).toBe(12);
    const out = roundTrip(type, [1, -0, NaN]) as Float64Array;
    expect(out).toBeInstanceOf(Float64Array);
    expect(Object.is(out[1], -0)).toBe(true);
    expect(Number.isNaN(out[2])).toBe(true);
  });

  it.each([
    ['int64 extremes', { dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) }],
    ['bool', { dtype: 'bool', shape: [2, 1], data: new Uint8Array([1, 0]) }],
    ['uint8', { dtype: 'uint8', shape: [3], data: new Uint8Array([0, 128, 255]) }],
    ['int32', { dtype: 'int32', shape: [1, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) }],
    ['empty float64', { dtype: 'float64', shape: [0, 3], data: new Float64Array(0) }],
    ['scalar float32', { dtype: 'float32', shape: [], data: new Float32Array([2.5]) }],
  ])('should keep a %s tensor exactly', (_label, t) => {
    expect(roundTrip(compiled('tensor'), t)).toEqual(t);
  });

  it('should keep JSON values exactly, including -0 and unicode keys', () => {
    const value = JSON.parse('{"a":[1,-0,"😀",null,true,{"x":{"y":[]}}],"é":{},"":""}') as unknown;
    const out = roundTrip(compiled('json'), value);
    expect(out).toEqual(value);
    expect(Object.is((out as { a: unknown[] }).a[1], -0)).toBe(true);
  });

  it('should reject a __proto__ key, which protobuf decoding would turn into a prototype', () => {
    const value = JSON.parse('{"a":{"__proto__":{"x":1}}}') as unknown;
    expect(compiled('json').validate(value)).toEqual({
      ok: false,
      violations: [
        {
          constraint: 'type',
          message: "/a: the object key '__proto__' is not supported (it does not survive protobuf decoding)",
          path: '/a/__proto__',
        },
      ],
    });
  });

  it('should send a 1,000,000-element float32 tensor as ~4 MB of little-endian bytes', () => {
    const n = 1_000_000;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = i * 0.5 - 1;
    const type = compiled('tensor', { dtype: 'float32', shape: [-1] });
    const value = type.validate({ dtype: 'float32', shape: [n], data });
    expect(value.ok).toBe(true);
    if (!value.ok) return;
    const bytes = toBinary(ValueSchema, type.toWire(value.value));
    expect(bytes.length).toBeGreaterThan(4_000_000);
    expect(bytes.length).toBeLessThan(4_000_020);
    expect(encodedSize(value.value)).toBe(bytes.length);
    const decoded = fromBinary(ValueSchema, bytes);
    if (decoded.kind.case !== 'tensorValue') throw new Error('not a tensor');
    const view = new DataView(decoded.kind.value.data.buffer, decoded.kind.value.data.byteOffset);
    expect(view.getFloat32(4 * 12345, true)).toBe(12345 * 0.5 - 1);
    const back = fromWire(decoded);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    const out = (back.value as TensorValue).data;
    expect(out).toBeInstanceOf(Float32Array);
    // byte comparison: Jest's deep equality over a million elements is needlessly slow
    expect(Buffer.compare(Buffer.from(out.buffer, out.byteOffset, out.byteLength), Buffer.from(data.buffer))).toBe(0);
  });

  // numpy is only an extra witness: the test above already checks the little-endian layout byte by byte.
  // CI installs Debian's python3-numpy (.ci/run); the first interpreter that imports numpy is used.
  const python = ['python3', '/usr/bin/python3'].find(
    (exe) => spawnSync(exe, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0,
  );
  (python !== undefined ? it : it.skip)(
    'should be readable with numpy.frombuffer (skipped when no python3 has numpy)',
    () => {
      const t: TensorValue = { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -0.5]) };
      const decoded = fromBinary(ValueSchema, toBinary(ValueSchema, toWire(t)));
      if (decoded.kind.case !== 'tensorValue') throw new Error('not a tensor');
      const dir = mkdtempSync(join(tmpdir(), 'ub-types-'));
      try {
        const file = join(dir, 'tensor.bin');
        writeFileSync(file, decoded.kind.value.data);
        const script = `import numpy, sys; a = numpy.frombuffer(open(sys.argv[1], 'rb').read(), dtype='<f4').reshape(${JSON.stringify(decoded.kind.value.shape)}); print(a.tolist())`;
        const out = spawnSync(python!, ['-c', script, file], { encoding: 'utf8' });
        expect(out.stderr).toBe('');
        expect(out.stdout.trim()).toBe('[[1.0, 2.0, 3.0], [4.0, 5.0, -0.5]]');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('fromWire', () => {
  const wire = (kind: Value['kind']): Value => create(ValueSchema, { kind });

  it('should decode each kind', () => {
    expect(fromWire(wire({ case: 'intValue', value: 5n }))).toEqual({ ok: true, value: 5 });
    expect(fromWire(wire({ case: 'intValue', value: 2n ** 60n }))).toEqual({ ok: true, value: 2n ** 60n });
    expect(fromWire(wire({ case: 'doubleValue', value: 3 }))).toEqual({ ok: true, value: 3 });
    expect(fromWire(wire({ case: 'stringValue', value: 'x' }))).toEqual({ ok: true, value: 'x' });
    expect(fromWire(wire({ case: 'boolValue', value: true }))).toEqual({ ok: true, value: true });
  });

  it('should let the variable type accept cross-kind values losslessly', () => {
    const asInt = fromWire(wire({ case: 'doubleValue', value: 3 }));
    expect(asInt.ok && compiled('integer').validate(asInt.value)).toEqual({ ok: true, value: 3 });
    const asFloat = fromWire(wire({ case: 'intValue', value: 3n }));
    expect(asFloat.ok && compiled('float').validate(asFloat.value)).toEqual({ ok: true, value: 3 });
    const frac = fromWire(wire({ case: 'doubleValue', value: 3.5 }));
    expect(frac.ok && compiled('integer').validate(frac.value).ok).toBe(false);
  });

  const tensor = (dtype: WireDtype, shape: number[], data: number[]): Value =>
    wire({ case: 'tensorValue', value: create(TensorSchema, { dtype, shape, data: new Uint8Array(data) }) });

  it.each([
    ['no kind', wire({ case: undefined }), 'wire Value has no kind set'],
    ['an unset dtype', tensor(WireDtype.UNSPECIFIED, [1], [0]), 'tensor dtype 0 is not supported (unset or unknown)'],
    [
      'too few bytes',
      tensor(WireDtype.FLOAT32, [2], [0, 0, 0, 0]),
      'tensor data has 4 bytes but shape [2] of float32 needs 8',
    ],
    ['a bool byte of 2', tensor(WireDtype.BOOL, [2], [1, 2]), 'bool tensor byte 1 is 2; only 0 and 1 are allowed'],
    ['not a message', 'nope' as unknown as Value, "expected a wire Value message, got 'nope'"],
  ])('should report %s', (_label, value, message) => {
    expect(fromWire(value)).toEqual({ ok: false, violations: [{ constraint: 'type', message }] });
  });

  it('should report NaN inside a JSON value with its path', () => {
    const bad = toWire({ a: [1] });
    if (bad.kind.case !== 'jsonValue') throw new Error('not json');
    const list = bad.kind.value.kind;
    if (list.case !== 'structValue') throw new Error('not a struct');
    const inner = list.value.fields['a']!.kind;
    if (inner.case !== 'listValue') throw new Error('not a list');
    inner.value.values[0]!.kind = { case: 'numberValue', value: NaN };
    expect(fromWire(bad)).toEqual({
      ok: false,
      violations: [{ constraint: 'type', message: 'NaN is not a JSON number', path: '/a/0' }],
    });
  });

  it('should return an aligned copy of unaligned tensor bytes', () => {
    const backing = new Uint8Array(9);
    backing.set(new Uint8Array(new Float64Array([1.25]).buffer), 1);
    const t = fromLittleEndianBytes(backing.subarray(1), 'float64');
    expect(Array.from(t as Float64Array)).toEqual([1.25]);
  });

  it('should byte-swap on a big-endian host', () => {
    const data = new Float32Array([1.5, -2]);
    const be = toLittleEndianBytes(data, false);
    expect(Array.from(be)).toEqual(Array.from(new Uint8Array(data.buffer)));
    expect(Array.from(fromLittleEndianBytes(be, 'float32', false) as Float32Array)).toEqual([1.5, -2]);
    const big = new BigInt64Array([-5n]);
    expect(Array.from(fromLittleEndianBytes(toLittleEndianBytes(big, false), 'int64', false) as BigInt64Array)).toEqual(
      [-5n],
    );
  });
});

describe('toWire (type-agnostic)', () => {
  it.each([
    [3, 'intValue', 3n],
    [-0, 'doubleValue', -0],
    [1.5, 'doubleValue', 1.5],
    [2n ** 62n, 'intValue', 2n ** 62n],
    ['s', 'stringValue', 's'],
    [true, 'boolValue', true],
  ])('should encode %p as %s', (value, kind, wireValue) => {
    expect(toWire(value).kind).toEqual({ case: kind, value: wireValue });
  });

  it('should encode typed arrays and objects', () => {
    expect(toWire(new Float64Array(2)).kind.case).toBe('tensorValue');
    expect(toWire({ dtype: 'int32', shape: [1], data: new Int32Array(1) }).kind.case).toBe('tensorValue');
    expect(toWire(null).kind.case).toBe('jsonValue');
    expect(toWire([1, 'a']).kind.case).toBe('jsonValue');
  });

  it.each([
    [undefined, 'undefined has no wire encoding'],
    [2n ** 63n, 'integer 9223372036854775808 is outside the int64 range'],
    ['\ud800', 'string contains a lone surrogate, which cannot be encoded as UTF-8'],
    [{ a: () => 1 }, '/a: a function is not a JSON value'],
  ])('should throw for %p', (value, message) => {
    expect(() => toWire(value)).toThrow(message);
  });

  it('should refuse non-normalised values in typed toWire', () => {
    expect(() => compiled('integer').toWire(1.5)).toThrow('integer toWire expects a safe integer or a bigint, got 1.5');
    expect(() => compiled('float').toWire('1')).toThrow("float toWire expects a number, got '1'");
    expect(() => compiled('tensor').toWire({ dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow(
      'tensor data has 2 elements but shape [3] needs 3',
    );
  });
});

describe('inferType and encodedSize', () => {
  it.each([
    [3, 'integer'],
    [3n, 'integer'],
    [0.5, 'float'],
    [NaN, 'float'],
    ['x', 'string'],
    [true, 'boolean'],
    [new Float32Array(2), 'embedding'],
    [new Int32Array(2), 'tensor'],
    [{ dtype: 'float32', shape: [1], data: new Float32Array(1) }, 'tensor'],
    [null, 'json'],
    [{ a: 1 }, 'json'],
    [[1], 'json'],
    [undefined, undefined],
    [() => 1, undefined],
  ])('should infer %p as %p', (value, type) => {
    expect(inferType(value)).toBe(type);
  });

  it.each([
    ['a double', 1.5],
    ['an int', 3n],
    ['a string', 'héllo 😀'],
    ['a boolean', true],
    ['a tensor', { dtype: 'int64', shape: [2, 2], data: new BigInt64Array(4) } as TensorValue],
    ['json', { a: [1, 'x', null, { b: true }], c: 'é' }],
  ])('should estimate the size of %s close to the real encoding', (_label, value) => {
    const real = toBinary(ValueSchema, toWire(value)).length;
    const estimate = encodedSize(value);
    expect(Math.abs(estimate - real)).toBeLessThanOrEqual(Math.max(4, real * 0.1));
  });

  it('should return 0 rather than throw for values with no wire form', () => {
    expect(encodedSize(() => 1)).toBe(0);
    expect(encodedSize(undefined)).toBe(0);
  });
});
