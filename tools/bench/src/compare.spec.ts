import { compareResults, formatOutcome, type ComparableResults } from './compare.js';

const run = (cases: [string, number | null, number?, ('lower' | 'higher')?][], quick = false): ComparableResults => ({
  machine: { quick, cpuModel: 'cpu' },
  cases: cases.map(([name, ratio, median, better]) => ({
    name,
    unit: ratio === null ? '%' : 'us',
    median: median ?? 1,
    ratioToFloor: ratio,
    better: better ?? 'lower',
  })),
});

describe('compareResults', () => {
  it('should pass when every ratio is within the tolerance', () => {
    const out = compareResults(
      run([
        ['a', 2],
        ['b', 3],
      ]),
      run([
        ['a', 2.1],
        ['b', 2.5],
      ]),
      0.1,
    );
    expect(out.ok).toBe(true);
    expect(out.compared.map((c) => c.status)).toEqual(['ok', 'improved']);
  });

  it('should fail on a ratio that worsened by more than the tolerance', () => {
    const out = compareResults(run([['a', 2]]), run([['a', 2.3]]), 0.1);
    expect(out.ok).toBe(false);
    expect(out.regressions).toHaveLength(1);
    expect(out.regressions[0]!.worse).toBeCloseTo(0.15);
    expect(compareResults(run([['a', 2]]), run([['a', 2.3]]), 0.2).ok).toBe(true);
  });

  it('should compare medians of cases without a ratio, honouring the better direction', () => {
    const hit = compareResults(run([['h', null, 98, 'higher']]), run([['h', null, 80, 'higher']]), 0.1);
    expect(hit.ok).toBe(false);
    expect(hit.compared[0]!.metric).toBe('median');
    const up = compareResults(run([['h', null, 80, 'higher']]), run([['h', null, 98, 'higher']]), 0.1);
    expect(up.ok).toBe(true);
    expect(up.compared[0]!.status).toBe('improved');
  });

  it('should fail when a baseline case is missing and list new cases', () => {
    const out = compareResults(
      run([
        ['a', 1],
        ['b', 1],
      ]),
      run([
        ['a', 1],
        ['c', 1],
      ]),
      0.1,
    );
    expect(out.ok).toBe(false);
    expect(out.missing).toEqual(['b']);
    expect(out.added).toEqual(['c']);
  });

  it('should warn when quick and full runs are compared', () => {
    const out = compareResults(run([['a', 1]]), run([['a', 1]], true), 0.1);
    expect(out.warnings.join()).toMatch(/--quick/);
  });

  it('should refuse a negative tolerance', () => {
    expect(() => compareResults(run([]), run([]), -1)).toThrow(RangeError);
  });

  it('should format a verdict line', () => {
    const text = formatOutcome(compareResults(run([['a', 2]]), run([['a', 3]]), 0.1), 0.1);
    expect(text).toMatch(/REGRESSION/);
    expect(text).toMatch(/FAILED$/);
  });
});
