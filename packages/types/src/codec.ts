// Type-agnostic conversion between normalised JS values and the wire `Value` message.
import { create } from '@bufbuild/protobuf';
import {
  ListValueSchema,
  NullValue,
  StructSchema,
  ValueSchema as JsonValueSchema,
  type Value as JsonValueMessage,
} from '@bufbuild/protobuf/wkt';
import { Dtype as WireDtype, TensorSchema, ValueSchema, type Tensor, type Value } from '@unified-bridge/proto';
import { formatValue, formatShape } from './format.js';
import { checkJsonValue, isPlainObject, isWellFormed, MAX_JSON_DEPTH } from './json-value.js';
import {
  dtypeOfTypedArray,
  fromLittleEndianBytes,
  isTensorValue,
  ITEM_SIZE,
  toLittleEndianBytes,
  typedArrayTag,
} from './tensor-data.js';
import type { Dtype, TensorValue, TypeName, ValidationResult, Violation } from './types.js';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

const DTYPE_TO_WIRE: Readonly<Record<Dtype, WireDtype>> = {
  float32: WireDtype.FLOAT32,
  float64: WireDtype.FLOAT64,
  int32: WireDtype.INT32,
  int64: WireDtype.INT64,
  uint8: WireDtype.UINT8,
  bool: WireDtype.BOOL,
};
const WIRE_TO_DTYPE: Readonly<Partial<Record<number, Dtype>>> = {
  [WireDtype.FLOAT32]: 'float32',
  [WireDtype.FLOAT64]: 'float64',
  [WireDtype.INT32]: 'int32',
  [WireDtype.INT64]: 'int64',
  [WireDtype.UINT8]: 'uint8',
  [WireDtype.BOOL]: 'bool',
};

// ---------------------------------------------------------------------------------------------
// Encoding

/** A wire Value holding a double. */
export function doubleToWire(value: number): Value {
  return create(ValueSchema, { kind: { case: 'doubleValue', value } });
}
/** A wire Value holding an int64 (number must be a safe integer, bigint within int64). */
export function intToWire(value: number | bigint): Value {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < INT64_MIN || big > INT64_MAX) {
    throw new RangeError(`integer ${big} is outside the int64 range`);
  }
  return create(ValueSchema, { kind: { case: 'intValue', value: big } });
}
/** A wire Value holding a string (must be well-formed UTF-16). */
export function stringToWire(value: string): Value {
  if (!isWellFormed(value)) {
    throw new TypeError('string contains a lone surrogate, which cannot be encoded as UTF-8');
  }
  return create(ValueSchema, { kind: { case: 'stringValue', value } });
}
/** A wire Value holding a boolean. */
export function boolToWire(value: boolean): Value {
  return create(ValueSchema, { kind: { case: 'boolValue', value } });
}

/** A wire Tensor from a normalised TensorValue (checked for consistency). */
export function tensorMessage(t: TensorValue): Tensor {
  if (!isTensorValue(t)) {
    throw new TypeError(
      `expected a normalised TensorValue (dtype, shape, data in the dtype's typed array), got ${formatValue(t)}`,
    );
  }
  let count = 1;
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new TypeError(`tensor shape ${formatShape(t.shape)} has an invalid axis size ${d}`);
    }
    count *= d;
  }
  if (count !== t.data.length) {
    throw new TypeError(`tensor data has ${t.data.length} elements but shape ${formatShape(t.shape)} needs ${count}`);
  }
  return create(TensorSchema, {
    dtype: DTYPE_TO_WIRE[t.dtype],
    shape: t.shape.slice(),
    data: toLittleEndianBytes(t.data),
  });
}

/** A wire Value holding a tensor. The bytes view the tensor's memory on little-endian hosts. */
export function tensorToWire(t: TensorValue): Value {
  return create(ValueSchema, { kind: { case: 'tensorValue', value: tensorMessage(t) } });
}

/** A wire Value holding a JSON value (checked to be JSON). */
export function jsonToWire(value: unknown): Value {
  const bad = checkJsonValue(value);
  if (bad) throw new TypeError(bad.message);
  return create(ValueSchema, { kind: { case: 'jsonValue', value: jsonMessage(value) } });
}

function jsonMessage(value: unknown): JsonValueMessage {
  if (value === null) {
    return create(JsonValueSchema, { kind: { case: 'nullValue', value: NullValue.NULL_VALUE } });
  }
  switch (typeof value) {
    case 'number':
      return create(JsonValueSchema, { kind: { case: 'numberValue', value } });
    case 'string':
      return create(JsonValueSchema, { kind: { case: 'stringValue', value } });
    case 'boolean':
      return create(JsonValueSchema, { kind: { case: 'boolValue', value } });
    default:
      break;
  }
  if (Array.isArray(value)) {
    return create(JsonValueSchema, {
      kind: {
        case: 'listValue',
        value: create(ListValueSchema, { values: value.map((v: unknown) => jsonMessage(v)) }),
      },
    });
  }
  const fields: Record<string, JsonValueMessage> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // defineProperty: a key named __proto__ stays an ordinary own property
    Object.defineProperty(fields, k, { value: jsonMessage(v), enumerable: true, writable: true, configurable: true });
  }
  return create(JsonValueSchema, {
    kind: { case: 'structValue', value: create(StructSchema, { fields }) },
  });
}

/**
 * Encodes a normalised JS value as a wire Value without knowing its variable type: safe integers
 * (not -0) and bigints -> `intValue`, other numbers -> `doubleValue`, strings, booleans,
 * Float32Array/Float64Array and other typed arrays -> a 1-D `tensorValue`, TensorValue ->
 * `tensorValue`, null/arrays/plain objects -> `jsonValue`. Prefer `CompiledType.toWire`, which knows
 * the type (a float variable holding 3 is then sent as a double). Throws a TypeError/RangeError for a
 * value that has no lossless wire form (undefined, functions, lone surrogates, int64 overflow, cycles).
 * @example toWire(3n).kind // { case: 'intValue', value: 3n }
 */
export function toWire(value: unknown): Value {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? intToWire(value) : doubleToWire(value);
    case 'bigint':
      return intToWire(value);
    case 'string':
      return stringToWire(value);
    case 'boolean':
      return boolToWire(value);
    default:
      break;
  }
  const dtype = dtypeOfTypedArray(value);
  if (dtype !== undefined) {
    const data = value as TensorValue['data'];
    return tensorToWire({ dtype, shape: [data.length], data });
  }
  if (isTensorValue(value)) return tensorToWire(value);
  if (value === null || Array.isArray(value) || isPlainObject(value)) return jsonToWire(value);
  throw new TypeError(`${formatValue(value)} has no wire encoding`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function wireViolation(message: string, path?: string): ValidationResult<never> {
  const v: Violation = { constraint: 'type', message };
  if (path !== undefined) v.path = path;
  return { ok: false, violations: [v] };
}

/**
 * Decodes a wire Value into a plain JS value without knowing its variable type: `intValue` -> number
 * when safe else bigint, `doubleValue` -> number, `stringValue`, `boolValue`, `jsonValue` -> the JSON
 * value, `tensorValue` -> TensorValue (fresh, aligned typed array). The caller then validates the
 * result with the variable's CompiledType. Returns violations for a malformed Value (no kind,
 * unknown dtype, byte count not matching the shape, bool bytes other than 0/1, NaN inside JSON).
 * Never throws.
 * @example fromWire(toWire(3n)) // { ok: true, value: 3 }
 */
export function fromWire(value: Value): ValidationResult {
  try {
    if (typeof value !== 'object' || value === null || typeof value.kind !== 'object') {
      return wireViolation(`expected a wire Value message, got ${formatValue(value)}`);
    }
    const kind = value.kind;
    switch (kind.case) {
      case 'doubleValue':
        return { ok: true, value: kind.value };
      case 'intValue': {
        const big = BigInt(kind.value);
        if (big >= -9007199254740991n && big <= 9007199254740991n) {
          return { ok: true, value: Number(big) };
        }
        return { ok: true, value: big };
      }
      case 'stringValue':
        return { ok: true, value: kind.value };
      case 'boolValue':
        return { ok: true, value: kind.value };
      case 'jsonValue':
        return jsonFromMessage(kind.value, '', 0);
      case 'tensorValue':
        return tensorFromMessage(kind.value);
      default:
        return wireViolation('wire Value has no kind set');
    }
  } catch (err) {
    return wireViolation(`malformed wire Value: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function jsonFromMessage(msg: JsonValueMessage | undefined, path: string, depth: number): ValidationResult {
  if (!msg) return wireViolation('json value is missing', path || undefined);
  if (depth > MAX_JSON_DEPTH) {
    return wireViolation(`JSON nesting deeper than ${MAX_JSON_DEPTH} levels is not supported`, path);
  }
  const kind = msg.kind;
  switch (kind.case) {
    case 'nullValue':
      return { ok: true, value: null };
    case 'numberValue':
      if (!Number.isFinite(kind.value)) {
        return wireViolation(`${formatValue(kind.value)} is not a JSON number`, path || undefined);
      }
      return { ok: true, value: kind.value };
    case 'stringValue':
    case 'boolValue':
      return { ok: true, value: kind.value };
    case 'listValue': {
      const out: unknown[] = [];
      const values = kind.value.values;
      for (let i = 0; i < values.length; i++) {
        const r = jsonFromMessage(values[i], `${path}/${i}`, depth + 1);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    case 'structValue': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(kind.value.fields)) {
        const r = jsonFromMessage(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
        if (!r.ok) return r;
        // defineProperty: a key named __proto__ stays an ordinary own property
        Object.defineProperty(out, k, { value: r.value, enumerable: true, writable: true, configurable: true });
      }
      return { ok: true, value: out };
    }
    default:
      return wireViolation('json value has no kind set', path || undefined);
  }
}

/** Decodes a wire Tensor, checking dtype, shape and byte count. */
export function tensorFromMessage(t: Tensor | undefined): ValidationResult<TensorValue> {
  if (!t) return wireViolation('tensor is missing');
  const dtype = WIRE_TO_DTYPE[t.dtype];
  if (dtype === undefined) {
    return wireViolation(`tensor dtype ${String(t.dtype)} is not supported (unset or unknown)`);
  }
  let count = 1;
  for (const d of t.shape) count *= d;
  const expectedBytes = count * ITEM_SIZE[dtype];
  if (expectedBytes !== t.data.length) {
    return wireViolation(
      `tensor data has ${t.data.length} bytes but shape ${formatShape(t.shape)} of ${dtype} needs ${expectedBytes}`,
    );
  }
  const data = fromLittleEndianBytes(t.data, dtype);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) {
      const b = (data as Uint8Array)[i]!;
      if (b > 1) return wireViolation(`bool tensor byte ${i} is ${b}; only 0 and 1 are allowed`);
    }
  }
  return { ok: true, value: { dtype, shape: Array.from(t.shape), data } };
}

// ---------------------------------------------------------------------------------------------
// Sizes and inference

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size += 1;
  }
  return size;
}

function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function lengthDelimited(payload: number): number {
  return 1 + varintSize(payload) + payload;
}

/** The wire size of a number, string or boolean Value; undefined for anything else. */
function scalarSize(value: unknown): number | undefined {
  switch (typeof value) {
    case 'number':
      return 9;
    case 'string':
      return lengthDelimited(utf8Length(value));
    case 'boolean':
      return 2;
    default:
      return undefined;
  }
}

function jsonSize(value: unknown, depth: number): number {
  if (depth > MAX_JSON_DEPTH + 1) return 0; // malformed input; normalised values never get here
  const scalar = scalarSize(value);
  if (scalar !== undefined) return scalar;
  if (value === null || typeof value !== 'object') return 2;
  if (Array.isArray(value)) {
    let inner = 0;
    for (const v of value) inner += lengthDelimited(jsonSize(v, depth + 1));
    return lengthDelimited(inner);
  }
  let inner = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    inner += lengthDelimited(lengthDelimited(utf8Length(k)) + lengthDelimited(jsonSize(v, depth + 1)));
  }
  return lengthDelimited(inner);
}

/**
 * Approximate size in bytes of the wire Value of a normalised value (exact for scalars and tensors,
 * within a few bytes per node for JSON). Used by stores to enforce value-size limits without
 * encoding. Never throws; returns 0 for values with no wire form.
 * @example encodedSize(new Float32Array(1_000_000)) // about 4_000_010
 */
export function encodedSize(value: unknown): number {
  try {
    if (typeof value === 'bigint') return 1 + varintSize(Number(BigInt.asUintN(64, value)));
    const scalar = scalarSize(value);
    if (scalar !== undefined) return scalar;
    if (ArrayBuffer.isView(value)) {
      return lengthDelimited(2 + lengthDelimited(1 + varintSize(value.byteLength)) + lengthDelimited(value.byteLength));
    }
    if (isTensorValue(value)) {
      let shapeBytes = 0;
      for (const d of value.shape) shapeBytes += varintSize(d);
      return lengthDelimited(2 + lengthDelimited(shapeBytes) + lengthDelimited(value.data.byteLength));
    }
    if (value === null || Array.isArray(value) || isPlainObject(value)) {
      return lengthDelimited(jsonSize(value, 0));
    }
    return 0;
  } catch {
    return 0;
  }
}

/**
 * The built-in type a client would register for a value it sets without a declared type:
 * safe integers and bigints -> `integer`, other numbers -> `float`, strings -> `string`, booleans ->
 * `boolean`, Float32Array/Float64Array -> `embedding`, other typed arrays and TensorValues -> `tensor`,
 * null/arrays/plain objects -> `json`; undefined for anything else (functions, undefined, symbols).
 * @example inferType(0.5) // 'float'
 */
export function inferType(value: unknown): TypeName | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? 'integer' : 'float';
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'integer' : undefined;
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      break;
  }
  const tag = typedArrayTag(value);
  if (tag === 'Float32Array' || tag === 'Float64Array') return 'embedding';
  if (dtypeOfTypedArray(value) !== undefined) return 'tensor';
  if (isTensorValue(value)) return 'tensor';
  if (value === null || Array.isArray(value) || isPlainObject(value)) return 'json';
  return undefined;
}
