import { Timings } from './timings.js';

describe('Timings', () => {
  it('should compute min, median, p99, max and mean', () => {
    const t = new Timings('get');
    for (let i = 100; i >= 1; i--) t.add(i);
    expect(t.count).toBe(100);
    expect(t.min).toBe(1);
    expect(t.max).toBe(100);
    expect(t.median).toBe(50.5);
    expect(t.p99).toBe(99);
    expect(t.percentile(50)).toBe(50);
    expect(t.percentile(100)).toBe(100);
    expect(t.percentile(0)).toBe(1);
    expect(t.mean).toBe(50.5);
    expect(t.summary()).toBe('get: n=100 min=1.00ms median=50.50ms p99=99.00ms max=100.00ms');
    expect(t.toJSON()).toEqual({ label: 'get', count: 100, min: 1, median: 50.5, p99: 99, max: 100, mean: 50.5 });
  });

  it('should use the middle sample for an odd count and keep insertion order in samples', () => {
    const t = new Timings().add(3).add(1).add(2);
    expect(t.median).toBe(2);
    expect(t.samples).toEqual([3, 1, 2]);
  });

  it('should report NaN and "no samples" when empty', () => {
    const t = new Timings();
    expect(t.min).toBeNaN();
    expect(t.median).toBeNaN();
    expect(t.p99).toBeNaN();
    expect(t.max).toBeNaN();
    expect(t.mean).toBeNaN();
    expect(t.summary()).toBe('timings: n=0 (no samples)');
  });

  it('should time a function, return its result and record failures too', async () => {
    const t = new Timings();
    await expect(t.time(async () => 42)).resolves.toBe(42);
    await expect(t.time(() => 'sync')).resolves.toBe('sync');
    await expect(
      t.time(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(t.count).toBe(3);
    expect(t.min).toBeGreaterThanOrEqual(0);
  });

  it('should reject invalid samples and percentiles', () => {
    const t = new Timings();
    expect(() => t.add(-1)).toThrow(RangeError);
    expect(() => t.add(Number.NaN)).toThrow(/finite number >= 0/);
    expect(() => t.percentile(101)).toThrow(/between 0 and 100/);
    expect(t.count).toBe(0);
  });
});
