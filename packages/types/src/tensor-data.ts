// Helpers shared by the tensor/embedding types and the codec: dtype tables, realm-safe typed-array
// checks, and little-endian byte conversion.
import { DTYPES } from './types.js';
import type { Dtype, TensorValue } from './types.js';

export type TensorData = TensorValue['data'];

/** Bytes per element of each dtype. */
export const ITEM_SIZE: Readonly<Record<Dtype, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  uint8: 1,
  bool: 1,
};

/** The typed array class tag that holds each dtype. */
export const DTYPE_TAG: Readonly<Record<Dtype, string>> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
};

const TAG_DTYPE: Readonly<Record<string, Dtype>> = {
  Float32Array: 'float32',
  Float64Array: 'float64',
  Int32Array: 'int32',
  BigInt64Array: 'int64',
  Uint8Array: 'uint8',
};

/**
 * The class name of a typed array (`Float32Array`, ...), or undefined for anything else. Works across
 * realms (Jest sandboxes, iframes), unlike `instanceof`.
 */
export function typedArrayTag(value: unknown): string | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return typeof tag === 'string' ? tag : undefined;
}

/** The dtype a typed array holds natively (Uint8Array -> uint8), or undefined. */
export function dtypeOfTypedArray(value: unknown): Dtype | undefined {
  const tag = typedArrayTag(value);
  return tag === undefined ? undefined : TAG_DTYPE[tag];
}

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

/** True for an object shaped like a normalised TensorValue (data in the dtype's own typed array). */
export function isTensorValue(value: unknown): value is TensorValue {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<TensorValue>;
  return isDtype(t.dtype) && Array.isArray(t.shape) && typedArrayTag(t.data) === DTYPE_TAG[t.dtype];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The little-endian bytes of `data`. On little-endian hosts (every platform Node and browsers run on
 * in practice) this is a view of the same memory, not a copy.
 */
export function toLittleEndianBytes(data: TensorData, littleEndianHost = LITTLE_ENDIAN): Uint8Array {
  if (littleEndianHost || data.BYTES_PER_ELEMENT === 1) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const n = data.length;
  if (typedArrayTag(data) === 'BigInt64Array') {
    for (let i = 0; i < n; i++) view.setBigInt64(i * 8, (data as BigInt64Array)[i]!, true);
  } else if (typedArrayTag(data) === 'Float64Array') {
    for (let i = 0; i < n; i++) view.setFloat64(i * 8, (data as Float64Array)[i]!, true);
  } else if (typedArrayTag(data) === 'Float32Array') {
    for (let i = 0; i < n; i++) view.setFloat32(i * 4, (data as Float32Array)[i]!, true);
  } else {
    for (let i = 0; i < n; i++) view.setInt32(i * 4, (data as Int32Array)[i]!, true);
  }
  return out;
}

/**
 * A fresh typed array of `dtype` holding the little-endian `bytes` (copied, so the result is aligned
 * and does not keep the message buffer alive). `bytes.length` must be a multiple of the item size.
 */
export function fromLittleEndianBytes(bytes: Uint8Array, dtype: Dtype, littleEndianHost = LITTLE_ENDIAN): TensorData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  const n = bytes.length / ITEM_SIZE[dtype];
  if (littleEndianHost || ITEM_SIZE[dtype] === 1) {
    switch (dtype) {
      case 'float32':
        return new Float32Array(buf, 0, n);
      case 'float64':
        return new Float64Array(buf, 0, n);
      case 'int32':
        return new Int32Array(buf, 0, n);
      case 'int64':
        return new BigInt64Array(buf, 0, n);
      default:
        return copy;
    }
  }
  const view = new DataView(buf);
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    default: {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getBigInt64(i * 8, true);
      return out;
    }
  }
}
