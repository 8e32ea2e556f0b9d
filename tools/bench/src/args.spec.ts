import { parseCheckArgs, parseRunArgs, parseTolerance } from './args.js';

describe('args', () => {
  it('should parse the runner options', () => {
    expect(parseRunArgs(['--quick', '--only', 'baselines,bridge', '--out=/tmp/x'])).toEqual({
      quick: true,
      only: ['baselines', 'bridge'],
      out: '/tmp/x',
      help: false,
    });
    expect(() => parseRunArgs(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseRunArgs(['--out'])).toThrow(/needs a value/);
  });

  it('should parse a tolerance as a fraction or a percentage', () => {
    expect(parseTolerance('0.1')).toBe(0.1);
    expect(parseTolerance('15%')).toBeCloseTo(0.15);
    expect(() => parseTolerance('10')).toThrow(/looks like a percentage/);
    expect(() => parseTolerance('-1')).toThrow(RangeError);
    expect(() => parseTolerance('abc')).toThrow(RangeError);
  });

  it('should parse the check options with a 10% default', () => {
    expect(parseCheckArgs([])).toMatchObject({ tolerance: 0.1, update: false });
    expect(parseCheckArgs(['--tolerance', '20%', '--results', 'r.json', '--update'])).toMatchObject({
      tolerance: 0.2,
      results: 'r.json',
      update: true,
    });
  });
});
