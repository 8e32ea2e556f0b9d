// Built-in structured types: embedding, tensor, json.
import type { Value } from '@unified-bridge/proto';
import { INT64_MAX, INT64_MIN, jsonToWire, tensorToWire } from './codec.js';
import { formatList, formatShape, formatValue } from './format.js';
import { checkJsonValue } from './json-value.js';
import { buildSchemaValidator, type SchemaValidator } from './schema.js';
import { DTYPE_TAG, dtypeOfTypedArray, isDtype, typedArrayTag, type TensorData } from './tensor-data.js';
import { DTYPES } from './types.js';
import { cannotConvert } from './builtin-scalars.js';
import type { Dtype, TensorValue, TypeDefinition, ValidationResult, Violation } from './types.js';

function typeError(message: string, extra?: Partial<Violation>): ValidationResult<never> {
  return { ok: false, violations: [{ constraint: 'type', message, ...extra }] };
}

// ---------------------------------------------------------------------------------------------
// embedding

export const embeddingType: TypeDefinition<Float32Array | Float64Array> = {
  name: 'embedding',
  description: 'a vector of floats; on the wire a 1-D float32/float64 tensor',
  constraints: {
    dimensions: {
      schema: { type: 'integer', minimum: 0 },
      expects: 'a non-negative integer (the exact vector length)',
      example: 768,
    },
  },
  compile(c) {
    const dims = c['dimensions'] as number | undefined;
    return (value: unknown): ValidationResult<Float32Array | Float64Array> => {
      let data: Float32Array | Float64Array;
      const tag = typedArrayTag(value);
      if (tag === 'Float32Array' || tag === 'Float64Array') {
        data = value as Float32Array | Float64Array;
      } else if (Array.isArray(value)) {
        const out = new Float64Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const x: unknown = value[i];
          if (typeof x !== 'number') {
            return cannotConvert(x, 'embedding', `element ${i} is not a number`) as ValidationResult<never>;
          }
          out[i] = x;
        }
        data = out;
      } else if (isObject(value) && (value['dtype'] === 'float32' || value['dtype'] === 'float64')) {
        // a 1-D float tensor, e.g. what fromWire yields for an embedding
        const shape = value['shape'];
        const d = value['data'];
        if (
          !Array.isArray(shape) ||
          shape.length !== 1 ||
          typedArrayTag(d) !== DTYPE_TAG[value['dtype']] ||
          (d as TensorData).length !== shape[0]
        ) {
          return cannotConvert(
            value,
            'embedding',
            'only a 1-D float32/float64 tensor is an embedding',
          ) as ValidationResult<never>;
        }
        data = d as Float32Array | Float64Array;
      } else {
        return cannotConvert(value, 'embedding') as ValidationResult<never>;
      }
      if (dims !== undefined && data.length !== dims) {
        return {
          ok: false,
          violations: [
            {
              constraint: 'dimensions',
              message: `must have exactly ${dims} dimensions`,
              expected: dims,
              actual: data.length,
            },
          ],
        };
      }
      return { ok: true, value: data };
    };
  },
  toWire(value: Float32Array | Float64Array): Value {
    const dtype = dtypeOfTypedArray(value);
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new TypeError(`embedding toWire expects a Float32Array or Float64Array, got ${formatValue(value)}`);
    }
    return tensorToWire({ dtype, shape: [value.length], data: value });
  },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// tensor

const MAX_ELEMENTS = 2 ** 31; // beyond this a tensor cannot be a single wire message anyway

/** Flattens rectangular nested arrays row-major; returns the shape or an error message. */
function flatten(data: unknown[]): { shape: number[]; flat: unknown[] } | string {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const flat: unknown[] = [];
  const walk = (node: unknown, axis: number, path: string): string | undefined => {
    if (axis === shape.length) {
      if (Array.isArray(node)) return `data${path} is nested deeper than the other elements`;
      flat.push(node);
      return undefined;
    }
    if (!Array.isArray(node) || node.length !== shape[axis]) {
      return `data${path} should be an array of length ${shape[axis]} (nested arrays must be rectangular)`;
    }
    for (let i = 0; i < node.length; i++) {
      const err = walk(node[i], axis + 1, `${path}[${i}]`);
      if (err) return err;
    }
    return undefined;
  };
  const err = walk(data, 0, '');
  return err ?? { shape, flat };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Fills `out` with the elements if each is an integer (number or bigint) from `min` to `max`, else names the first that is not. */
function integerElements<T extends Int32Array | Uint8Array>(
  src: ArrayLike<unknown>,
  out: T,
  min: number,
  max: number,
): T | { index: number; value: unknown } {
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    const v = typeof x === 'bigint' ? Number(x) : x;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return { index: i, value: x };
    out[i] = v;
  }
  return out;
}

/** Converts elements to the dtype's typed array, lossless only (float32 rounds to nearest, by definition). */
function convertElements(src: ArrayLike<unknown>, dtype: Dtype): TensorData | { index: number; value: unknown } {
  const n = src.length;
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = src[i];
        if (typeof x === 'number') out[i] = x;
        else if (typeof x === 'bigint' && BigInt(Number(x)) === x) out[i] = Number(x);
        else return { index: i, value: x };
      }
      return out;
    }
    case 'int32':
      return integerElements(src, new Int32Array(n), INT32_MIN, INT32_MAX);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const x = src[i];
        let b: bigint;
        if (typeof x === 'bigint') b = x;
        else if (typeof x === 'number' && Number.isInteger(x)) b = BigInt(x);
        else return { index: i, value: x };
        if (b < INT64_MIN || b > INT64_MAX) return { index: i, value: x };
        out[i] = b;
      }
      return out;
    }
    case 'uint8':
      return integerElements(src, new Uint8Array(n), 0, 255);
    default: {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x = src[i];
        if (x === true || x === 1 || x === 1n) out[i] = 1;
        else if (x === false || x === 0 || x === 0n) out[i] = 0;
        else return { index: i, value: x };
      }
      return out;
    }
  }
}

function inferDtype(sample: unknown): Dtype {
  if (typeof sample === 'boolean') return 'bool';
  if (typeof sample === 'bigint') return 'int64';
  return 'float64';
}

/** Normalises a tensor input; `preferred` is the dtype to use when the input does not say. */
function normaliseTensor(value: unknown, preferred: Dtype | undefined): ValidationResult<TensorValue> {
  let dtypeIn: unknown;
  let shapeIn: unknown;
  let dataIn: unknown;
  if (ArrayBuffer.isView(value)) {
    dataIn = value;
  } else if (isObject(value) && 'data' in value) {
    dtypeIn = value['dtype'];
    shapeIn = value['shape'];
    dataIn = value['data'];
  } else {
    return cannotConvert(
      value,
      'tensor',
      'expected { dtype, shape, data } or a typed array',
    ) as ValidationResult<never>;
  }
  if (dtypeIn !== undefined && !isDtype(dtypeIn)) {
    return typeError(`tensor dtype ${formatValue(dtypeIn)} is not one of: ${DTYPES.join(', ')}`, { actual: dtypeIn });
  }
  let shape: number[] | undefined;
  if (shapeIn !== undefined) {
    if (
      !Array.isArray(shapeIn) ||
      !shapeIn.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 0xffffffff)
    ) {
      return typeError(`tensor shape must be an array of non-negative integers, got ${formatValue(shapeIn)}`, {
        actual: shapeIn,
      });
    }
    shape = (shapeIn as number[]).slice();
  }
  let flat: ArrayLike<unknown>;
  let typed: TensorData | undefined;
  const nativeDtype = dtypeOfTypedArray(dataIn);
  if (nativeDtype !== undefined) {
    typed = dataIn as TensorData;
    flat = typed;
  } else if (ArrayBuffer.isView(dataIn)) {
    flat = dataIn as unknown as ArrayLike<unknown>; // other typed arrays (Int16Array, ...) convert element-wise
  } else if (Array.isArray(dataIn)) {
    const f = flatten(dataIn);
    if (typeof f === 'string') return typeError(`tensor ${f}`);
    if (f.shape.length > 1 || shape === undefined) {
      // nested arrays say their own shape; a flat array may be reshaped by an explicit shape
      if (shape !== undefined && formatShape(shape) !== formatShape(f.shape)) {
        return typeError(`tensor data has shape ${formatShape(f.shape)} but shape says ${formatShape(shape)}`, {
          expected: shape,
          actual: f.shape,
        });
      }
      shape ??= f.shape;
    }
    flat = f.flat;
  } else {
    return typeError(`tensor data must be a typed array or (nested) arrays of numbers, got ${formatValue(dataIn)}`);
  }
  shape ??= [flat.length];
  let count = 1;
  for (const d of shape) count *= d;
  if (count > MAX_ELEMENTS) return typeError(`tensor shape ${formatShape(shape)} has more than 2^31 elements`);
  if (count !== flat.length) {
    return typeError(`tensor data has ${flat.length} elements but shape ${formatShape(shape)} needs ${count}`, {
      expected: count,
      actual: flat.length,
    });
  }
  const dtype: Dtype =
    (dtypeIn as Dtype | undefined) ?? nativeDtype ?? preferred ?? inferDtype(flat.length > 0 ? flat[0] : 0);
  let data: TensorData;
  if (typed !== undefined && typedArrayTag(typed) === DTYPE_TAG[dtype]) {
    data = typed;
    if (dtype === 'bool') {
      for (let i = 0; i < data.length; i++) {
        if ((data as Uint8Array)[i]! > 1) {
          return typeError(`Cannot convert ${(data as Uint8Array)[i]} to bool at data[${i}]`, {
            actual: (data as Uint8Array)[i],
          });
        }
      }
    }
  } else {
    const converted = convertElements(flat, dtype);
    if (!ArrayBuffer.isView(converted)) {
      return typeError(`Cannot convert ${formatValue(converted.value)} to ${dtype} at data[${converted.index}]`, {
        actual: converted.value,
        expected: dtype,
      });
    }
    data = converted;
  }
  return { ok: true, value: { dtype, shape, data } };
}

export const tensorType: TypeDefinition<TensorValue> = {
  name: 'tensor',
  description: 'a dense n-dimensional array (dtype, shape, little-endian data)',
  constraints: {
    shape: {
      schema: { type: 'array', items: { type: 'integer', minimum: -1 } },
      expects: 'an array of axis sizes, each a non-negative integer or -1 for any size',
      example: [-1, 3],
    },
    dtype: {
      schema: {
        anyOf: [{ enum: DTYPES }, { type: 'array', items: { enum: DTYPES }, minItems: 1, uniqueItems: true }],
      },
      expects: `one of ${DTYPES.join(', ')} (or a non-empty array of them)`,
      example: 'float32',
    },
  },
  compile(c) {
    const shape = c['shape'] as number[] | undefined;
    const dtypeC = c['dtype'] as Dtype | Dtype[] | undefined;
    const dtypes = dtypeC === undefined ? undefined : Array.isArray(dtypeC) ? dtypeC : [dtypeC];
    const preferred = dtypes?.length === 1 ? dtypes[0] : undefined;
    const dtypeText = dtypes ? (dtypes.length === 1 ? dtypes[0]! : `one of: ${formatList(dtypes)}`) : '';
    return (value: unknown): ValidationResult<TensorValue> => {
      const r = normaliseTensor(value, preferred);
      if (!r.ok) return r;
      const t = r.value;
      const violations: Violation[] = [];
      if (dtypes !== undefined && !dtypes.includes(t.dtype)) {
        violations.push({
          constraint: 'dtype',
          message: `dtype must be ${dtypeText}, got ${t.dtype}`,
          expected: dtypeC,
          actual: t.dtype,
        });
      }
      if (
        shape !== undefined &&
        (shape.length !== t.shape.length || shape.some((d, i) => d !== -1 && d !== t.shape[i]))
      ) {
        violations.push({
          constraint: 'shape',
          message: `shape must be ${formatShape(shape)}`,
          expected: shape,
          actual: t.shape,
        });
      }
      return violations.length > 0 ? { ok: false, violations } : r;
    };
  },
  toWire: (value: TensorValue) => tensorToWire(value),
};

// ---------------------------------------------------------------------------------------------
// json

const checkedSchemas = new WeakMap<object, SchemaValidator>();

export const jsonType: TypeDefinition<unknown> = {
  name: 'json',
  description: 'any JSON value, optionally constrained by a JSON Schema',
  constraints: {
    schema: {
      schema: { type: ['object', 'boolean'] },
      expects: 'a JSON Schema (draft-07 by default; 2019-09 and 2020-12 via $schema)',
      example: { type: 'object', required: ['name'] },
    },
  },
  check(c) {
    if (c['schema'] === undefined) return [];
    const r = buildSchemaValidator(c['schema'], 'schema');
    if (!r.ok) return r.violations;
    checkedSchemas.set(c, r.validate); // compile() below gets the same constraints object
    return [];
  },
  compile(c) {
    let schemaValidate: SchemaValidator | undefined;
    if (c['schema'] !== undefined) {
      schemaValidate = checkedSchemas.get(c);
      if (!schemaValidate) {
        const r = buildSchemaValidator(c['schema'], 'schema');
        if (!r.ok) throw new TypeError(r.violations.map((v) => v.message).join('; '));
        schemaValidate = r.validate;
      }
      checkedSchemas.delete(c);
    }
    return (value: unknown): ValidationResult => {
      if (schemaValidate) return schemaValidate(value); // checks JSON-ness first
      const bad = checkJsonValue(value);
      return bad ? { ok: false, violations: [bad] } : { ok: true, value };
    };
  },
  toWire: (value: unknown) => jsonToWire(value),
};
