import { bearerToken, createTokenVerifier, validateAuthOptions } from './auth.js';

describe('auth', () => {
  it('should parse bearer tokens case-insensitively and reject other schemes', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
  });

  it('should map each static token to its own stable principal that does not reveal the token', async () => {
    const verify = createTokenVerifier({ tokens: ['alpha', 'beta'] });
    const a = await verify('alpha');
    const b = await verify('beta');
    expect(a).toMatch(/^token:[0-9a-f]{16}$/);
    expect(b).not.toBe(a);
    expect(a).not.toContain('alpha');
    expect(await verify('alpha')).toBe(a);
    expect(await verify('alph')).toBeUndefined();
    expect(await verify('')).toBeUndefined();
  });

  it('should fall back to the verify function and ignore empty principals', async () => {
    const verify = createTokenVerifier({
      tokens: ['static'],
      verify: (t) => (t === 'dyn' ? 'user-1' : t === 'empty' ? '' : null),
    });
    expect(await verify('dyn')).toBe('user-1');
    expect(await verify('empty')).toBeUndefined();
    expect(await verify('other')).toBeUndefined();
  });

  it('should reject unusable options with a TypeError naming the option', () => {
    expect(() => validateAuthOptions({})).toThrow(/auth\.tokens.*auth\.verify/);
    expect(() => validateAuthOptions({ tokens: [] })).toThrow(/auth\.tokens/);
    expect(() => validateAuthOptions({ tokens: [''] })).toThrow(/auth\.tokens/);
  });
});
