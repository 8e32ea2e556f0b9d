import { orderStatistics } from './order-statistics.js';

describe('orderStatistics', () => {
  it('should take the median of odd and even sample counts', () => {
    expect(orderStatistics([3, 1, 2]).median).toBe(2);
    expect(orderStatistics([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('should compute nearest-rank percentiles, min, max and mean', () => {
    const s = orderStatistics(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toMatchObject({ count: 100, min: 1, max: 100, mean: 50.5 });
    expect(s.percentile(99)).toBe(99);
    expect(s.percentile(100)).toBe(100);
    expect(s.percentile(50)).toBe(50);
    expect(s.percentile(0)).toBe(1);
    expect(orderStatistics([7]).percentile(99)).toBe(7);
  });

  it('should take p99 from the top 1% of the samples', () => {
    const s = [...Array.from({ length: 990 }, () => 1), ...Array.from({ length: 10 }, () => 1000)];
    expect(orderStatistics(s).percentile(99)).toBe(1);
    expect(orderStatistics([...s, 1000]).percentile(99)).toBe(1000);
  });

  it('should not change its input', () => {
    const s = [3, 1, 2];
    orderStatistics(s);
    expect(s).toEqual([3, 1, 2]);
  });

  it('should give NaN for an empty set and reject a bad percentile', () => {
    const empty = orderStatistics([]);
    expect(empty.count).toBe(0);
    for (const v of [empty.min, empty.max, empty.mean, empty.median, empty.percentile(50)]) expect(v).toBeNaN();
    expect(() => orderStatistics([1]).percentile(101)).toThrow(RangeError);
    expect(() => orderStatistics([1]).percentile(-1)).toThrow(/between 0 and 100/);
    expect(() => orderStatistics([1]).percentile(Number.NaN)).toThrow(RangeError);
  });
});
