// Typed values round-trip losslessly through a real `unified-bridge serve` process, over gRPC and
// Connect: written by one client, read back from the server by another (cache off), so the wire
// codec of @unified-bridge/types is exercised on both sides.
// Covers: int64 beyond 2^53 (bigint) and at the int64 limits, NaN / ±Infinity / -0, non-BMP and
// empty strings, booleans, choice, JSON values, float32 embeddings, 2-D tensors (binary, not JSON
// arrays), and a 1,000,000-element float32 tensor (about 4 MB on the wire).
import { useBridgeServer } from '@unified-bridge/testing/jest';
import { PROTOCOLS, uniqueId, useClients } from './support/helpers.js';

const bridge = useBridgeServer();
const openClient = useClients(() => bridge.url);

interface Case {
  name: string;
  type: string;
  value: unknown;
  constraints?: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'big_int', type: 'integer', value: 2n ** 62n + 1n },
  { name: 'int64_max', type: 'integer', value: 2n ** 63n - 1n },
  { name: 'int64_min', type: 'integer', value: -(2n ** 63n) },
  { name: 'safe_int', type: 'integer', value: Number.MAX_SAFE_INTEGER },
  { name: 'nan', type: 'float', value: Number.NaN },
  { name: 'neg_inf', type: 'float', value: Number.NEGATIVE_INFINITY },
  { name: 'neg_zero', type: 'float', value: -0 },
  { name: 'emoji', type: 'string', value: 'héllo 🌍 \u0000 end' },
  { name: 'empty', type: 'string', value: '' },
  { name: 'flag', type: 'boolean', value: false },
  { name: 'pick', type: 'choice', value: 'b', constraints: { choices: ['a', 'b'] } },
  { name: 'doc', type: 'json', value: { a: [1, 'two', null, { deep: true }], n: 1.5 } },
  { name: 'emb', type: 'embedding', value: new Float32Array([0.25, -1.5, 3]) },
];

describe.each(PROTOCOLS)('value round trips over %s', (protocol) => {
  it.each(CASES)('should keep $type $name exact', async ({ name, type, value, constraints }) => {
    const writer = openClient({ protocol });
    const reader = openClient({ protocol, cache: false });
    await using session = await writer.createSession({ id: uniqueId('values') });
    await session.register(name, type, value, constraints ? { constraints } : {});
    const read = await reader.session(session.id).getVariable(name);
    expect(read.type).toBe(type);
    if (type === 'float') expect(Object.is(read.value, value)).toBe(true);
    else expect(read.value).toEqual(value);
    if (value instanceof Float32Array) expect(read.value).toBeInstanceOf(Float32Array);
  });

  it('should carry a 2-D tensor with its dtype and shape', async () => {
    const writer = openClient({ protocol });
    const reader = openClient({ protocol, cache: false });
    await using session = await writer.createSession({ id: uniqueId('tensor') });
    const data = new Float64Array([1, 2, 3, 4, 5, 6]);
    await session.register(
      't',
      'tensor',
      { dtype: 'float64', shape: [2, 3], data },
      { constraints: { shape: [2, 3] } },
    );
    const read = (await reader.session(session.id).get('t')) as { dtype: string; shape: number[]; data: Float64Array };
    expect(read.dtype).toBe('float64');
    expect(read.shape).toEqual([2, 3]);
    expect(Array.from(read.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('should carry a 1,000,000-element float32 tensor exactly', async () => {
    const writer = openClient({ protocol });
    const reader = openClient({ protocol, cache: false });
    await using session = await writer.createSession({ id: uniqueId('big-tensor') });
    const data = new Float32Array(1_000_000);
    for (let i = 0; i < data.length; i++) data[i] = (i % 1000) / 7;
    await session.register('big', 'tensor', { dtype: 'float32', shape: [1000, 1000], data });
    const read = (await reader.session(session.id).get('big')) as { shape: number[]; data: Float32Array };
    expect(read.shape).toEqual([1000, 1000]);
    expect(read.data).toBeInstanceOf(Float32Array);
    expect(read.data.length).toBe(data.length);
    expect(
      Buffer.from(read.data.buffer, read.data.byteOffset, read.data.byteLength).equals(Buffer.from(data.buffer)),
    ).toBe(true);
  });
});
