import { computeRatios, FLOOR_CASE, toUs, type CaseResult } from './results.js';
import { toCase, type Measurement } from './measure.js';

const base = (over: Partial<CaseResult>): CaseResult => ({
  name: 'x',
  unit: 'us',
  median: 1,
  p99: 1,
  opsPerSec: null,
  cpuUsPerOpClient: null,
  cpuUsPerOpServer: null,
  ratioToFloor: null,
  better: 'lower',
  group: 'g',
  ...over,
});

describe('computeRatios', () => {
  it('should divide each time median by the floor median across units', () => {
    const out = computeRatios([
      base({ name: FLOOR_CASE, median: 100 }),
      base({ name: 'a', median: 250 }),
      base({ name: 'b', unit: 'ms', median: 1.5 }),
      base({ name: 'c', unit: 'ns', median: 500 }),
    ]);
    expect(out.map((c) => c.ratioToFloor)).toEqual([1, 2.5, 15, 0.005]);
  });

  it('should use a case-specific floor when one is named', () => {
    const out = computeRatios([
      base({ name: FLOOR_CASE, median: 100 }),
      base({ name: 'floor.w10', median: 400 }),
      base({ name: 'c.w10', median: 1000, floor: 'floor.w10' }),
    ]);
    expect(out[2]!.ratioToFloor).toBe(2.5);
  });

  it('should leave non-time cases and cases without a floor at null', () => {
    expect(computeRatios([base({ name: 'a' })])[0]!.ratioToFloor).toBeNull();
    const out = computeRatios([
      base({ name: FLOOR_CASE, median: 10 }),
      base({ name: 'h', unit: 'bytes', median: 300 }),
    ]);
    expect(out[1]!.ratioToFloor).toBeNull();
  });

  it('should not mutate the input cases', () => {
    const cases = [base({ name: FLOOR_CASE, median: 10 }), base({ name: 'a', median: 20 })];
    computeRatios(cases);
    expect(cases[1]!.ratioToFloor).toBeNull();
  });

  it('should convert time units to microseconds and refuse others', () => {
    expect(toUs(2, 'ms')).toBe(2000);
    expect(toUs(2, 's')).toBe(2e6);
    expect(() => toUs(1, 'bytes')).toThrow(TypeError);
  });
});

describe('toCase', () => {
  it('should report median/p99 in the unit and CPU per operation', () => {
    const m: Measurement = { samplesUs: [100, 200, 300, 400], ops: 4, wallUs: 1000, cpuClientUs: 80, cpuServerUs: 40 };
    const c = toCase(m, { name: 'n', group: 'g', unit: 'ms' });
    expect(c.median).toBeCloseTo(0.25);
    expect(c.p99).toBeCloseTo(0.4);
    expect(c.opsPerSec).toBeCloseTo(4000);
    expect(c.cpuUsPerOpClient).toBe(20);
    expect(c.cpuUsPerOpServer).toBe(10);
    expect(c.samples).toBe(4);
  });
});
