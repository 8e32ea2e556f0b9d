import { RedisStore } from '@unified-bridge/store-redis';
import { startRedis, type StartedRedis } from '@unified-bridge/testing';
import { Redis } from 'ioredis';

// Values are stored as the binary protobuf Value encoding: exact, and compact.
let redis: StartedRedis;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

describe('RedisStore values', () => {
  it('should keep int64, NaN, infinities, -0 and JSON exact across store instances', async () => {
    await using a = new RedisStore({ url: redis.url, keyPrefix: 'exact:', sweepIntervalMs: 0 });
    await using b = new RedisStore({ url: redis.url, keyPrefix: 'exact:', sweepIntervalMs: 0 });
    const s = await a.createSession();
    await a.registerVariable(s.id, { name: 'big', type: 'integer', value: 9_223_372_036_854_775_807n });
    await a.registerVariable(s.id, { name: 'nan', type: 'float', value: Number.NaN });
    await a.registerVariable(s.id, { name: 'inf', type: 'float', value: Number.NEGATIVE_INFINITY });
    await a.registerVariable(s.id, { name: 'negzero', type: 'float', value: -0 });
    await a.registerVariable(s.id, { name: 'j', type: 'json', value: { a: [1, 'two', null, { b: true }] } });
    expect((await b.getVariable(s.id, 'big')).value).toBe(9_223_372_036_854_775_807n);
    expect(Number.isNaN((await b.getVariable(s.id, 'nan')).value)).toBe(true);
    expect((await b.getVariable(s.id, 'inf')).value).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is((await b.getVariable(s.id, 'negzero')).value, -0)).toBe(true);
    const j = await b.getVariable(s.id, 'j');
    expect(j.value).toEqual({ a: [1, 'two', null, { b: true }] });
    expect(Object.isFrozen(j.value)).toBe(true);
    await a.updateVariable(s.id, 'big', -9_223_372_036_854_775_808n);
    expect((await b.getHistory(s.id, 'big')).map((h) => h.value)).toEqual([
      -9_223_372_036_854_775_808n,
      9_223_372_036_854_775_807n,
    ]);
  });

  it('should store a 1,000,000-element float32 tensor in about 4 MB, bit for bit', async () => {
    await using store = new RedisStore({ url: redis.url, keyPrefix: 'tensor:', sweepIntervalMs: 0 });
    const s = await store.createSession({ id: 't' });
    const data = new Float32Array(1_000_000);
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(Math.sin(i) * 1e6);
    data[7] = Number.NaN;
    await store.registerVariable(s.id, {
      name: 'weights',
      type: 'tensor',
      value: { dtype: 'float32', shape: [1000, 1000], data },
      constraints: { dtype: 'float32', shape: [1000, 1000] },
    });
    const stored = await raw.hstrlen('tensor:{t}:v', 'weights|x');
    // SAMPLES 0 counts every field (the default samples 5 and extrapolates).
    const memory = (await raw.memory('USAGE', 'tensor:{t}:v', 'SAMPLES', 0)) as number;
    console.log(`1M float32 tensor: value ${stored} bytes, variables hash ${memory} bytes (MEMORY USAGE)`);
    expect(stored).toBeGreaterThanOrEqual(4_000_000);
    expect(stored).toBeLessThan(4_000_100);
    expect(memory).toBeGreaterThan(4_000_000);
    // jemalloc's size class for 4,000,018 bytes is 4 MiB (4,194,304).
    expect(memory).toBeLessThan(4_300_000);
    const read = (await store.getVariable(s.id, 'weights')).value as { shape: number[]; data: Float32Array };
    expect(read.shape).toEqual([1000, 1000]);
    expect(Buffer.from(read.data.buffer, read.data.byteOffset, read.data.byteLength)).toEqual(Buffer.from(data.buffer));
  });
});
