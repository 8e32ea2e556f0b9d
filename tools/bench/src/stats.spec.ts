import { linearFit, logHistogram, median, percentile, summarize } from './stats.js';

describe('stats', () => {
  it('should take the median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('should not mutate its input', () => {
    const s = [3, 1, 2];
    median(s);
    summarize(s);
    expect(s).toEqual([3, 1, 2]);
  });

  it('should compute the nearest-rank percentile', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile([7], 99)).toBe(7);
  });

  it('should summarise with p99 from the top 1%', () => {
    const s = [...Array.from({ length: 990 }, () => 1), ...Array.from({ length: 10 }, () => 1000)];
    const r = summarize(s);
    expect(r).toMatchObject({ n: 1000, min: 1, max: 1000, median: 1 });
    expect(r.p99).toBe(1);
    expect(summarize([...s, 1000]).p99).toBe(1000);
    expect(r.mean).toBeCloseTo(10.99, 2);
  });

  it('should refuse empty samples and a bad percentile', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('should put every sample into exactly one log-spaced bin', () => {
    const s = [1, 2, 10, 100, 1000, 1000];
    const bins = logHistogram(s, 3);
    expect(bins).toHaveLength(3);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(s.length);
    expect(bins[0]!.lo).toBeCloseTo(1);
    expect(bins[2]!.hi).toBeCloseTo(1000);
    expect(bins.map((b) => b.count)).toEqual([2, 1, 3]);
    expect(logHistogram([], 3)).toEqual([]);
  });

  it('should fit a line and report R² of 1 for exactly linear data', () => {
    const fit = linearFit([10, 100, 1000], [25, 205, 2005]);
    expect(fit.slope).toBeCloseTo(2);
    expect(fit.intercept).toBeCloseTo(5);
    expect(fit.r2).toBeCloseTo(1);
    expect(linearFit([1, 2, 3], [1, 5, 2]).r2).toBeLessThan(0.5);
  });
});
