import fc from 'fast-check';
import { compileGlob, decodePageToken, encodePageToken, Ring, upperBound } from './internal.js';

describe('internal helpers', () => {
  it('should match globs like an anchored regular expression', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,10}$/), (pattern, name) => {
        const re = new RegExp(`^${pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`);
        expect(compileGlob(pattern)(name)).toBe(pattern === '' ? true : re.test(name));
      }),
      { numRuns: 500 },
    );
  });

  it('should match a pathological glob quickly (no backtracking blow-up)', () => {
    const match = compileGlob('*a*a*a*a*a*a*a*a*a*b');
    expect(match('a'.repeat(128))).toBe(false);
  });

  it('should round-trip page tokens and reject forged ones', () => {
    fc.assert(fc.property(fc.string(), (key) => expect(decodePageToken(encodePageToken(key))).toBe(key)));
    expect(decodePageToken('')).toBeUndefined();
    expect(() => decodePageToken('!!')).toThrow(/pageToken/);
    expect(() => decodePageToken('YWJj')).toThrow(/pageToken/);
  });

  it('should find the upper bound in a sorted array', () => {
    expect(upperBound(['a', 'c', 'e'], 'c')).toBe(2);
    expect(upperBound(['a', 'c', 'e'], 'b')).toBe(1);
    expect(upperBound([], 'b')).toBe(0);
  });

  it('should keep the newest items of a ring', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect([r.at(0), r.at(1), r.at(2), r.size]).toEqual([3, 4, 5, 3]);
    const none = new Ring<number>(0);
    none.push(1);
    expect(none.size).toBe(0);
  });
});
