import { valueText } from './value-text.js';

describe('valueText', () => {
  it.each([
    [undefined, ''],
    ['abc', 'abc'],
    [1.5, '1.5'],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
    [12345678901234567890n, '12345678901234567890'],
    [true, 'true'],
    [null, 'null'],
    [[2, 3], '[2,3]'],
    [{ a: 1n, b: ['x'] }, '{"a":"1","b":["x"]}'],
  ])('should render %p as %p', (value, text) => {
    expect(valueText(value)).toBe(text);
  });

  it('should fall back to String() for what has no JSON form, and never throw', () => {
    expect(valueText(Symbol('s'))).toBe('Symbol(s)');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(valueText(cyclic)).toBe('[object Object]');
    const bare: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    bare['self'] = bare;
    expect(valueText(bare)).toBe('[object Object]');
  });
});
